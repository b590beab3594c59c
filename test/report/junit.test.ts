import {describe, expect, it} from 'vitest'
import {renderJunit} from '../../src/report/junit.js'
import {findAll, parseXml} from './xml.js'
import {AWKWARD_SUMMARY, noTrafficReport, sampleReport} from './sample-report.js'
import {sampleReportWithDefenders} from './sample-defenders.js'

describe('the test XML reader', () => {
  it('rejects what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow(/mismatched/)
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/)
    expect(() => parseXml('<a x=1/>')).toThrow(/bad attribute/)
    expect(() => parseXml('<a>fish & chips</a>')).toThrow(/entity/)
    expect(() => parseXml('<a x="<"/>')).toThrow(/raw '<'/)
    expect(() => parseXml('<a>\u001b[31m</a>')).toThrow(/not allowed/)
    expect(() => parseXml('<a/><b/>')).toThrow(/second root/)
    expect(() => parseXml('<a>')).toThrow(/unclosed/)
    expect(parseXml('<a x="&lt;&#38;&#x27;">t&gt;</a>')).toEqual({name: 'a', attributes: {x: "<&'"}, children: [], text: 't>'})
  })
})

describe('renderJunit', () => {
  const report = sampleReport()
  const xml = renderJunit(report)
  const root = parseXml(xml)

  it('is well-formed XML with a declaration and totals over every connection', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true)
    expect(root.name).toBe('testsuites')
    // sampleReport: #1 has 3 TCP + 4 TLS results (1 fail, 1 skip, 1 warn); #2 (refused) 3 TCP (2 fail).
    expect(root.attributes).toMatchObject({tests: '10', failures: '3', errors: '0', skipped: '1'})
    expect(findAll(root, 'testcase')).toHaveLength(10)
    expect(findAll(root, 'failure')).toHaveLength(3)
    expect(findAll(root, 'skipped')).toHaveLength(1)
  })

  it('has one testsuite per connection, named client → server, with its own totals', () => {
    const suites = findAll(root, 'testsuite')
    expect(suites.map((suite) => suite.attributes.name)).toEqual([
      '[2001:4998:ef83:14:8000::100d]:64034 → [2606:4700::6811:d209]:443',
      '127.0.0.3:33511 → 127.0.0.3:8084',
    ])
    expect(suites[0].attributes).toMatchObject({tests: '7', failures: '1', skipped: '1', time: '0.075', timestamp: '2020-07-05T20:23:28'})
    expect(suites[1].attributes).toMatchObject({tests: '3', failures: '2', skipped: '0'})
    const properties = findAll(suites[0], 'property')
    expect(properties.map((p) => [p.attributes.name, p.attributes.value])).toEqual([
      ['source', 'captures/defender & console.pcap'],
      ['verdict', 'fail'],
    ])
  })

  it('has one testcase per check, in order, classname per connection', () => {
    const cases = findAll(findAll(root, 'testsuite')[1], 'testcase')
    expect(cases.map((c) => [c.attributes.name, c.attributes.classname])).toEqual([
      ['tcp.syn', 'defender-check.conn-2'],
      ['tcp.syn-ack', 'defender-check.conn-2'],
      ['tcp.ack', 'defender-check.conn-2'],
    ])
    expect(cases[0].children).toEqual([])
  })

  it('puts the summary in the failure message and the hint and evidence in its body', () => {
    const refused = findAll(findAll(root, 'testsuite')[1], 'testcase')[1]
    const [failure] = refused.children
    expect(failure.name).toBe('failure')
    expect(failure.attributes.message).toBe('connection refused: server answered the SYN with RST (frame 2)')
    expect(failure.text).toBe(
      'hint: nothing listens on 127.0.0.3:8084, or a firewall rejects it; check that the Console is running and COMMUNICATION_PORT is 8084\n' +
        'confidence: observed\nframes: 1, 2\nrstDelayMs: 0.011',
    )
  })

  it('escapes <>&"\' in messages and bodies so they read back exactly', () => {
    const certificate = findAll(root, 'testcase').find((c) => c.attributes.name === 'tls.certificate')!
    const [failure] = certificate.children
    expect(failure.attributes.message).toBe(AWKWARD_SUMMARY)
    expect(failure.text).toContain('subject: "C=US, O=SANS Internet Storm Center, CN=SANS ISC DShield Test"')
    expect(xml).toContain('&lt;bad.curveballtest.com&gt;')
    expect(xml).toContain('&quot;SANS ISC DShield Test&quot;')
    expect(xml).toContain('Console&apos;s name &amp; chains')
  })

  it('reports a skip as <skipped> and a warning as a passing testcase with system-out', () => {
    const cases = findAll(root, 'testcase')
    const skipped = cases.find((c) => c.attributes.name === 'tls.client-certificate')!
    expect(skipped.children.map((c) => [c.name, c.attributes.message])).toEqual([['skipped', 'the server did not ask for a client certificate']])
    const warned = cases.find((c) => c.attributes.name === 'tls.alerts')!
    expect(warned.children.map((c) => c.name)).toEqual(['system-out'])
    expect(warned.children[0].text).toBe(
      'WARN: warning alert close_notify before the handshake completed\nhint: the server closed early; look at its log\nconfidence: observed\nframes: 9\nlevel: 1\ndescription: 0',
    )
  })

  it('drops characters XML cannot carry and keeps line breaks in attributes', () => {
    const dirty = sampleReport()
    const check = dirty.connections[1].checks[1]
    check.summary = 'SNI "evil\u001b[31m\u0000name"\ntwo lines'
    check.hint = 'bell\u0007 here\ud800 lone surrogate'
    const dirtyXml = renderJunit(dirty)
    const failure = findAll(parseXml(dirtyXml), 'failure').find((f) => f.attributes.message.startsWith('SNI'))!
    expect(failure.attributes.message).toBe('SNI "evil[31mname"\ntwo lines')
    expect(failure.text.split('\n')[0]).toBe('hint: bell here lone surrogate')
  })

  it('is one failing console-traffic testcase when there are no connections', () => {
    const empty = parseXml(renderJunit(noTrafficReport()))
    expect(empty.attributes).toMatchObject({tests: '1', failures: '1', skipped: '0'})
    const cases = findAll(empty, 'testcase')
    expect(cases).toHaveLength(1)
    expect(cases[0].attributes.name).toBe('console-traffic')
    const [failure] = cases[0].children
    expect(failure.attributes.message).toBe('No traffic to the Console port(s) 8084 found')
    expect(failure.text).toContain('seen instead: 10.0.0.5:443 (120 packets), [2606:4700::6811:d209]:8443 (9 packets), 10.0.0.9:53 (1 packet)')
    expect(failure.text).toContain('--port 443')
  })
})

describe('renderJunit with the per-Defender view', () => {
  // sample-defenders.ts: one Defender per pattern, in order healthy (its subject has <>&"'),
  // idle-cut, storm (145 refused upgrades), stopped (warn), console-closes, tls-alert (19 alerts).
  const report = sampleReportWithDefenders(6)
  const xml = renderJunit(report)
  const root = parseXml(xml)
  const suites = findAll(root, 'testsuite')
  const defenderSuites = suites.slice(2)

  it('keeps the connection suites as they were and adds one testsuite per Defender after them', () => {
    const without = renderJunit(sampleReport())
    // The connections' suites are byte for byte those of the report without the view.
    const connectionSuites = without.slice(without.indexOf('  <testsuite '), without.indexOf('\n</testsuites>'))
    expect(xml.slice(xml.indexOf('  <testsuite '), xml.indexOf('\n  <testsuite name="Defender'))).toBe(connectionSuites)
    expect(suites).toHaveLength(2 + 6)
    expect(defenderSuites.map((suite) => suite.attributes.name)).toEqual([
      `Defender 10.20.0.1 CN=${AWKWARD_SUMMARY}`,
      'Defender 10.20.0.2',
      'Defender 10.20.0.3',
      'Defender 10.20.0.4',
      'Defender 10.20.0.5',
      'Defender 10.20.0.6',
    ])
    // 10 connection testcases (3 failures, 1 skip) + 13 Defender testcases (6 failures).
    expect(root.attributes).toMatchObject({tests: '23', failures: '9', errors: '0', skipped: '1'})
    expect(defenderSuites.map((suite) => [suite.attributes.tests, suite.attributes.failures])).toEqual([
      ['2', '0'], ['2', '1'], ['2', '2'], ['2', '0'], ['2', '0'], ['3', '3'],
    ])
  })

  it('has the channel.stability testcase, then a failing testcase per check that failed on its connections', () => {
    const cases = (i: number) => findAll(defenderSuites[i], 'testcase')
    expect(cases(2).map((c) => [c.attributes.name, c.attributes.classname])).toEqual([
      ['channel.stability', 'defender-check.defender-10_20_0_3'],
      ['ws.upgrade', 'defender-check.defender-10_20_0_3'],
    ])
    const [stability] = cases(2)[0].children
    expect(stability.attributes.message).toBe('reconnect storm: an attempt every 4 s, each refused (ws.upgrade)')
    expect(stability.text.split('\n')[0]).toBe('hint: fix the refused upgrade (ws.upgrade); the storm follows from it')
    const [upgrade] = cases(2)[1].children
    expect(upgrade.attributes).toEqual({message: 'failed on 145 of 145 connections (every attempt)', type: 'fail'})
    expect(upgrade.text).toMatch(/^recent failing connections \(their own testsuites have the evidence\): #147 at 2026-01-15T10:09:21\.000Z, #148 at /)
    expect(upgrade.text.split('#')).toHaveLength(11)
    expect(cases(5).map((c) => c.attributes.name)).toEqual(['channel.stability', 'tls.client-certificate', 'tls.alerts'])
    expect(cases(5)[2].children[0].attributes.message).toBe('failed on 19 of 19 connections (every attempt)')
    // No failing check on its connections: one passing "connections" testcase with the counts.
    expect(cases(1).map((c) => c.attributes.name)).toEqual(['channel.stability', 'connections'])
    expect(cases(1)[1].children.map((c) => [c.name, c.text])).toEqual([['system-out', '9 connections, 8 reconnects, no check failed']])
    // A warning: passing, with system-out (a failure under --strict, below).
    expect(cases(3)[0].children.map((c) => c.name)).toEqual(['system-out'])
  })

  it('carries the Defender\'s identity and verdict as properties, its span as time, and escapes its subject', () => {
    const properties = findAll(defenderSuites[0], 'property').map((p) => [p.attributes.name, p.attributes.value])
    expect(properties).toEqual([
      ['source', 'captures/defender & console.pcap'],
      ['verdict', 'pass'],
      ['client', '10.20.0.1'],
      ['certificate', `CN=${AWKWARD_SUMMARY}`],
      ['sni', 'console.test'],
      ['connections', '2'],
      ['reconnects', '1'],
      ['last-good-handshake', '2026-01-15T10:01:42.000Z'],
    ])
    expect(defenderSuites[0].attributes).toMatchObject({time: '593.000', timestamp: '2026-01-15T10:00:07'})
    expect(findAll(defenderSuites[0], 'testcase')[0].attributes.classname).toBe('defender-check.defender-10_20_0_1_CN_certificate_SANS_ISC_DShield_Test_bad_curveballtest_com_is_not_the_Console_s_name_chains_to_INFIGO_')
  })

  it('fails a warning under --strict, says an inconclusive Defender, and names the Defenders beyond the limit', () => {
    const strict = sampleReportWithDefenders(6)
    strict.policy.strict = true
    strict.defenders!.defenders[1].failedChecks = []
    strict.defenders!.defenders[1].verdict = 'inconclusive'
    strict.defenders!.overflow = 3
    const parsed = findAll(parseXml(renderJunit(strict)), 'testsuite')
    const stopped = findAll(parsed[2 + 3], 'testcase')[0].children[0]
    expect([stopped.name, stopped.attributes.type]).toEqual(['failure', 'warn'])
    expect(stopped.attributes.message).toBe('WARN (--strict): stopped reconnecting: no attempt in the last minutes of the capture after a client close')
    const inconclusive = findAll(parsed[2 + 1], 'testcase')[1].children[0]
    expect([inconclusive.name, inconclusive.attributes.type]).toEqual(['failure', 'inconclusive'])
    const last = parsed[parsed.length - 1]
    expect(last.attributes).toMatchObject({name: 'Defenders beyond the limit', tests: '1', failures: '0'})
    expect(findAll(last, 'system-out')[0].text).toBe('3 Defenders beyond the limit of 10000 were counted but not tracked one by one; their connections are in the suites above')
  })
})
