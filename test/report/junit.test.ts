import {describe, expect, it} from 'vitest'
import {renderJunit} from '../../src/report/junit.js'
import {findAll, parseXml} from './xml.js'
import {AWKWARD_SUMMARY, noTrafficReport, sampleReport} from './sample-report.js'

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
