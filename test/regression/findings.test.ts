/**
 * Regressions for what the property tests and the fuzzer (fuzz/run.ts) found, each on a real
 * capture changed the way the minimised finding was, or on the RFC text it cites.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {TlsRecordReader} from '../../src/protocols/tls/record.js'
import {validateReport} from '../../src/report/schema.js'
import {renderJson} from '../../src/report/json.js'
import {CORPUS_PCAPS, FIXTURES} from '../helpers/paths.js'
import {describeWithJa4} from '../helpers/skip.js'

const PCAP = readFileSync(join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap'))
const PCAPNG = readFileSync(join(FIXTURES, 'tcp', 'dumpcap-pcapng', 'dumpcap.pcapng'))

function analyze(bytes: Uint8Array, ports: string[] = []) {
  const analyzer = new Analyzer({policy: buildPolicy({ports})})
  const parser = createCaptureParser(analyzer.sink)
  parser.push(bytes)
  const report = analyzer.finish({kind: 'file', name: 'finding.pcap', capture: parser.end()})
  return {report, schemaProblems: validateReport(JSON.parse(renderJson(report)))}
}

describe('TlsRecordReader: a non-TLS first byte split from the rest', () => {
  // An HTTP/1.1 request line (RFC 9112 §3) where TLS was expected, split after 1..4 bytes: the
  // reader stops with the same evidence and holds nothing as "waiting for more data".
  const request = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: console\r\n\r\n')
  it.each([1, 2, 3, 4])('split after %i byte(s)', (at) => {
    const reader = new TlsRecordReader({record: () => expect.fail('no record'), malformed: () => expect.fail('not malformed: not TLS')})
    reader.push(request.subarray(0, at), {frame: 1, ts: 0})
    reader.push(request.subarray(at), {frame: 2, ts: 0})
    expect(reader.stopped).toBe(true)
    expect(reader.pendingBytes).toBe(0)
    expect(Buffer.from(reader.notTls!.firstBytes).toString('latin1')).toBe('GET / HTTP/1.1\r\n')
  })
})

describe('timestamps the capture gets wrong', () => {
  it('an ACK stamped before its SYN gives no handshake RTT rather than a negative one', () => {
    // tls13-lo.pcap: frame 1 SYN, frame 3 handshake ACK (record at 24 + 90 + 90 = 204).
    const bytes = new Uint8Array(PCAP)
    const view = new DataView(bytes.buffer)
    view.setUint32(204, view.getUint32(24, true) - 1, true)
    const {report, schemaProblems} = analyze(bytes, ['8084'])
    expect(schemaProblems).toEqual([])
    const conn = report.connections[0]!
    expect(conn.facts.tcp.ack?.frame).toBe(3)
    expect(conn.facts.tcp.handshakeRttMs).toBeUndefined()
    expect(conn.checks.find((c) => c.id === 'tcp.ack')?.status).toBe('pass')
  })

  it('a pcapng timestamp past year 9999 neither throws nor breaks the report', () => {
    // dumpcap.pcapng: its interface description block says if_tsresol 9 (ns); set it to 0 (whole
    // seconds) and frame 1's timestamp (EPB at 300, high word at +12) to 2^32 s and more.
    const bytes = new Uint8Array(PCAPNG)
    const view = new DataView(bytes.buffer)
    let idb = 0
    for (let off = 0; off < 300; off += view.getUint32(off + 4, true)) if (view.getUint32(off, true) === 1) idb = off
    let tsresol = -1
    for (let opt = idb + 16; view.getUint16(opt, true) !== 0; opt += 4 + ((view.getUint16(opt + 2, true) + 3) & ~3)) {
      if (view.getUint16(opt, true) === 9) tsresol = opt + 4
    }
    expect(bytes[tsresol]).toBe(9)
    bytes[tsresol] = 0
    view.setUint32(300 + 12, 0x7fffffff, true)
    const {report, schemaProblems} = analyze(bytes)
    expect(schemaProblems).toEqual([])
    expect(report.source.firstTs).toBe('9999-12-31T23:59:59.999Z')
  })
})

describeWithJa4('tunnels other than GENEVE in the JSON report', () => {
  it.each([
    ['gre-erspan-vxlan.pcap', ['erspan', 'vxlan']],
    ['gre-sample.pcap', ['gre']],
  ])('%s: %j tunnels validate against the report schema', (file, expected) => {
    const {report, schemaProblems} = analyze(readFileSync(join(CORPUS_PCAPS, file)), ['any'])
    const types = new Set(report.connections.flatMap((c) => (c.facts.tunnels ?? []).map((t) => t.type)))
    expect([...types].sort()).toEqual(expected)
    expect(schemaProblems).toEqual([])
  })
})
