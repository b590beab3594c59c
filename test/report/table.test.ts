import {describe, expect, it} from 'vitest'
import {renderTable} from '../../src/report/table.js'
import {validateReport} from '../../src/report/schema.js'
import {noTrafficReport, sampleReport} from './sample-report.js'

const ESC = '\u001b'
/** Rows of the uncoloured table: `| id | STATUS | confidence | summary |`. */
const row = (id: string, status: string, confidence: string) =>
  new RegExp(`^\\| ${id.replace('.', '\\.')} +\\| ${status} +\\| ${confidence} +\\| `, 'm')

describe('renderTable without colour', () => {
  const report = sampleReport()
  const text = renderTable(report, {color: false, width: 100})

  it('has a row per check with its status word and confidence', () => {
    expect(text).toMatch(row('tcp.syn', 'PASS', 'observed'))
    expect(text).toMatch(row('tcp.syn-ack', 'PASS', 'observed'))
    expect(text).toMatch(row('tcp.ack', 'PASS', 'observed'))
    expect(text).toMatch(row('tls.version', 'PASS', 'observed'))
    expect(text).toMatch(row('tls.certificate', 'FAIL', 'observed'))
    expect(text).toMatch(row('tls.client-certificate', 'SKIP', 'inferred'))
    expect(text).toMatch(row('tls.alerts', 'WARN', 'observed'))
    // The refused connection's block.
    const second = text.slice(text.indexOf('#2 '))
    expect(second).toMatch(row('tcp.syn', 'PASS', 'observed'))
    expect(second).toMatch(row('tcp.syn-ack', 'FAIL', 'observed'))
    expect(second).toMatch(row('tcp.ack', 'FAIL', 'observed'))
  })

  it('is plain printable ASCII: no escape codes, no box drawing', () => {
    expect(text).not.toContain(ESC)
    expect(text).toMatch(/^[\x20-\x7e\n]*$/)
  })

  it('fits 100 columns', () => {
    const widths = text.split('\n').map((line) => line.length)
    expect(Math.max(...widths)).toBe(100)
  })

  it('has a header with the source, frames, time span and policy', () => {
    const lines = text.split('\n')
    expect(lines[0]).toBe('defender-check 0.1.0: captures/defender & console.pcap (file), 11 frames')
    expect(lines[1]).toBe('time: 2020-07-05T20:23:28.621Z -> 2020-07-05T20:23:28.696Z (75.0 ms)')
    expect(lines[2]).toBe('policy: port 8084, min TLS 1.3')
  })

  it('titles each connection with client -> server, start and duration, and its verdict', () => {
    expect(text).toContain('#1 [2001:4998:ef83:14:8000::100d]:64034 -> [2606:4700::6811:d209]:443\n(2020-07-05T20:23:28.621Z, 75.3 ms)  FAIL')
    expect(text).toContain('#2 127.0.0.3:33511 -> 127.0.0.3:8084 (2026-11-22T00:34:10.732Z, 0.011 ms)  FAIL')
  })

  it('puts the hint right under a failing or warning check, not under a passing or skipped one', () => {
    const lines = text.split('\n')
    const refused = lines.findIndex((line) => line.startsWith('| tcp.syn-ack') && line.includes('FAIL'))
    expect(lines[refused + 1]).toMatch(/^\| +\| +\| +\| RST \(frame 2\) +\|$/)
    expect(lines[refused + 2]).toMatch(/^\| +\| +\| +\| -> hint: nothing listens on 127\.0\.0\.3:8084, or a +\|$/)
    expect(lines[refused + 4]).toContain('running and COMMUNICATION_PORT is 8084')
    const warned = lines.findIndex((line) => line.startsWith('| tls.alerts'))
    expect(lines[warned + 2]).toContain('-> hint: the server closed early; look at its log')
    expect(text.match(/-> hint:/g)).toHaveLength(4)
  })

  it('ends with the counts and the verdict', () => {
    expect(text.split('\n').at(-1)).toBe('2 connections: 5 pass, 3 fail, 1 warn, 1 skip. Verdict: FAIL')
  })

  it('wraps to a narrow terminal without losing a long word', () => {
    const narrow = sampleReport()
    const fingerprint = 'sha256:37a074a3c248aef1f27cbd26093f3364765bb01a97e8b3f387f5bf0cd7b4e1b4'
    narrow.connections[0].checks[3].summary = `pinned ${fingerprint} matches`
    const lines = renderTable(narrow, {color: false, width: 72}).split('\n')
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(72)
    const start = lines.findIndex((line) => line.startsWith('| tls.version'))
    const pieces = lines.slice(start, start + 5).map((line) => line.split('|')[4].trim())
    expect(pieces).toEqual(['pinned', 'sha256:37a074a3c248ae', 'f1f27cbd26093f3364765', 'bb01a97e8b3f387f5bf0c', 'd7b4e1b4 matches'])
    expect(pieces.join('')).toBe(`pinned${fingerprint} matches`)
  })

  it('shows control characters from the capture instead of sending them to the terminal', () => {
    const hostile = sampleReport()
    hostile.connections[0].checks[3].summary = 'SNI evil\u001b]0;pwned\u0007 name'
    const out = renderTable(hostile, {color: false, width: 100})
    expect(out).not.toContain(ESC)
    expect(out).not.toContain('\u0007')
    expect(out).toContain('SNI evil\\x1b]0;pwned\\x07 name')
  })
})

describe('renderTable with colour', () => {
  const text = renderTable(sampleReport(), {color: true, width: 100})

  it('colours the statuses: PASS green, FAIL red, WARN yellow, SKIP dim', () => {
    expect(text).toContain(`${ESC}[32mPASS${ESC}[39m`)
    expect(text).toContain(`${ESC}[31m${ESC}[1mFAIL${ESC}[22m${ESC}[39m`)
    expect(text).toContain(`${ESC}[33mWARN${ESC}[39m`)
    expect(text).toContain(`${ESC}[2mSKIP${ESC}[22m`)
  })

  it('has the same rows once the colour is stripped, and still fits the width', () => {
    const plain = text.replace(/\u001b\[[0-9;]*m/g, '')
    expect(plain).toMatch(/^│ tcp\.syn-ack +│ PASS +│ observed +│ server answered with SYN-ACK in frame 2/m)
    expect(plain).toMatch(/^│ tls\.certificate +│ FAIL +│/m)
    expect(Math.max(...plain.split('\n').map((line) => line.length))).toBe(100)
    expect(plain).toContain('↳ hint: an intercepting proxy')
  })
})

describe('renderTable with no Console traffic', () => {
  const text = renderTable(noTrafficReport(), {color: false, width: 100})
  /** The text with its wrapping undone. */
  const unwrapped = (out: string) => out.replace(/\n(?!\n)/g, ' ')

  it('says so, lists what was seen instead and suggests --port', () => {
    expect(text).toContain('No traffic to the Console port(s) 8084 found')
    expect(unwrapped(text)).toContain('seen instead: 10.0.0.5:443 (120 packets), [2606:4700::6811:d209]:8443 (9 packets), 10.0.0.9:53 (1 packet)')
    expect(text).toContain('a SaaS Console, or one on 443, needs --port 443')
    expect(text).toContain('policy: port 8084, min TLS 1.3')
    expect(text.split('\n').slice(-2)).toEqual([
      '0 connections: 0 pass, 0 fail, 0 warn, 0 skip. Verdict: FAIL (no TCP traffic to the Console (port',
      '8084) in the capture)',
    ])
  })

  it('suggests another port than 443 when that is what was seen, and says when nothing was', () => {
    const other = noTrafficReport()
    other.otherTraffic = {servers: [{ip: '10.0.0.7', port: 8083, packets: 40}]}
    expect(unwrapped(renderTable(other, {color: false, width: 100}))).toContain('say so with --port (e.g. --port 8083; a SaaS Console uses 443)')
    other.otherTraffic = {servers: []}
    expect(renderTable(other, {color: false, width: 100})).toContain('seen instead: no other TCP traffic either')
  })
})

describe('renderTable: a connection seen inside GENEVE with options', () => {
  /** #2 of the sample, as if captured on a Microperimeter-redirected workload (RFC 8926 §3.5 options). */
  function redirectedReport() {
    const report = sampleReport()
    const facts = report.connections[1]!.facts as {tunnels?: unknown}
    facts.tunnels = [
      {
        type: 'geneve',
        vni: 0x0a,
        outerSrc: '10.0.0.1',
        outerDst: '10.0.0.2',
        options: [
          {optionClass: 0x0103, type: 0x20, critical: false, length: 8, data: '00000001', name: 'microperimeter'},
          {optionClass: 0xffff, type: 0x81, critical: true, length: 4, data: ''},
        ],
        direction: 'workload-to-firewall',
        directionDerivedFrom: "outer addresses: the packet's inner source 127.0.0.3 is the client, so the workload is 10.0.0.1 (the outer source) and the firewall 10.0.0.2",
      },
    ]
    return report
  }

  it('shows each option (class/type, name, critical, length, data) and the direction in the title', () => {
    const text = renderTable(redirectedReport(), {color: false, width: 300})
    expect(text).toContain(
      '#2 127.0.0.3:33511 -> 127.0.0.3:8084 via GENEVE VNI 10 (10.0.0.1 -> 10.0.0.2, options: 0x0103/0x20 (microperimeter, 8 B: 00000001), ' +
        '0xffff/0x81 (critical, 4 B), workload -> firewall (from the outer addresses)) (2026-11-22T00:34:10.732Z, 0.011 ms)  FAIL',
    )
  })

  it('shows the return leg (replyTunnels) after the tunnels, as replies via ...', () => {
    const report = redirectedReport()
    const facts = report.connections[1]!.facts as {tunnels?: Array<Record<string, unknown>>; replyTunnels?: unknown}
    facts.replyTunnels = [{...facts.tunnels![0], outerSrc: '10.0.0.2', outerDst: '10.0.0.1', options: (facts.tunnels![0]!.options as unknown[]).slice(0, 1), direction: 'firewall-to-workload'}]
    const text = renderTable(report, {color: false, width: 400})
    expect(text).toContain(
      'workload -> firewall (from the outer addresses)), replies via GENEVE VNI 10 (10.0.0.2 -> 10.0.0.1, option: 0x0103/0x20 (microperimeter, 8 B: 00000001), firewall -> workload (from the outer addresses)) (2026-11-22T00:34:10.732Z',
    )
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([])
  })

  it('the JSON with these options validates against schema/report.schema.json, and an option missing its critical bit does not', () => {
    const report = JSON.parse(JSON.stringify(redirectedReport()))
    expect(validateReport(report)).toEqual([])
    delete report.connections[1].facts.tunnels[0].options[0].critical
    expect(validateReport(report).join('\n')).toContain('critical')
  })
})
