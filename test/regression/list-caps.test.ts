/**
 * Issue 16 items 3 and 4: every per-connection list the input can grow keeps its first
 * LIST_CAPS items and counts the rest in `truncated` (src/lists.ts), and nothing spreads an
 * input-grown list into a call (`push(...list)`, `Math.max(...list)` overflow the stack past
 * ~120k items). Inputs are made here from the real tls13-lo.pcap (a Linux loopback TLS 1.3
 * session: frames 1-3 the handshake, frame 4 the ClientHello) with its segments repeated or
 * refilled, at 150k-200k items: enough to cross every cap and the old stack overflows; the
 * figures for 1M items are in the commit message.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {CaptureReport} from '../../src/model/report.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {TlsConnectionReader} from '../../src/protocols/tls/connection.js'
import {WebSocketConnectionReader} from '../../src/protocols/websocket/connection.js'
import {keyLogFromDecryptionSecrets, mergeKeyLogs, parseKeyLog} from '../../src/keys/keylog.js'
import {KeyStore} from '../../src/keys/store.js'
import {LIST_CAPS} from '../../src/limits.js'
import {renderJson} from '../../src/report/json.js'
import {validateReport} from '../../src/report/schema.js'
import {renderTable} from '../../src/report/table.js'
import {FIXTURES} from '../helpers/paths.js'

const PCAP = readFileSync(join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap'))

/** The records of a classic little-endian pcap: [header(16) + data]. */
function pcapRecords(file: Uint8Array): Uint8Array[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const out: Uint8Array[] = []
  for (let at = 24; at + 16 <= file.length; ) {
    const length = view.getUint32(at + 8, true)
    out.push(file.subarray(at, at + 16 + length))
    at += 16 + length
  }
  return out
}

const RECORDS = pcapRecords(PCAP)
const [SYN, SYN_ACK, ACK, CLIENT_HELLO] = RECORDS as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
/** Ethernet (14) + IPv4 (20) + TCP with timestamps (32). */
const IP_AT = 16 + 14
const PAYLOAD_AT = IP_AT + 20 + 32

function ipv4Checksum(bytes: Uint8Array, at: number): number {
  let sum = 0
  for (let i = 0; i < 20; i += 2) sum += (bytes[at + i]! << 8) | bytes[at + i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

/** Frame 4 (the client's first segment) refilled with `payload` at stream offset `offset` (relative to its own seq). */
function clientSegment(payload: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(PAYLOAD_AT + payload.length)
  out.set(CLIENT_HELLO.subarray(0, PAYLOAD_AT))
  out.set(payload, PAYLOAD_AT)
  const view = new DataView(out.buffer)
  view.setUint32(8, out.length - 16, true)
  view.setUint32(12, out.length - 16, true)
  view.setUint16(IP_AT + 2, out.length - IP_AT)
  view.setUint32(IP_AT + 20 + 4, (view.getUint32(IP_AT + 20 + 4) + offset) >>> 0)
  view.setUint16(IP_AT + 10, 0)
  view.setUint16(IP_AT + 10, ipv4Checksum(out, IP_AT))
  return out
}

/** The handshake, then `stream` from the client in segments of at most 60,000 bytes. */
function captureOfClientStream(stream: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [PCAP.subarray(0, 24), SYN, SYN_ACK, ACK]
  for (let at = 0; at < stream.length; at += 60_000) parts.push(clientSegment(stream.subarray(at, at + 60_000), at))
  return Buffer.concat(parts)
}

function repeated(unit: Uint8Array, count: number, tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(unit.length * count + tail.length)
  for (let i = 0; i < count; i++) out.set(unit, i * unit.length)
  out.set(tail, unit.length * count)
  return out
}

function analyze(bytes: Uint8Array): CaptureReport {
  const analyzer = new Analyzer({policy: buildPolicy({ports: ['8084']})})
  const parser = createCaptureParser(analyzer.sink)
  parser.push(bytes)
  return analyzer.finish({kind: 'file', name: 'list-caps.pcap', capture: parser.end()})
}

function liveHeap(): number {
  const gc = (globalThis as {gc?: () => void}).gc
  if (gc === undefined) throw new Error('run with node --expose-gc (vitest.config.ts sets it)')
  gc()
  return process.memoryUsage().heapUsed
}

/** TLS alert records (RFC 8446 §6): warning close_notify, and one fatal handshake_failure. */
const CLOSE_NOTIFY = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00)
const FATAL = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28)

describe('per-connection lists keep the first N and count the rest (LIST_CAPS)', () => {
  it('150,000 alert records then a fatal one: 64 listed plus the fatal one, the rest counted; JSON valid, table and its ladder render', () => {
    const count = 150_000
    const report = analyze(captureOfClientStream(repeated(CLOSE_NOTIFY, count, FATAL)))
    expect(report.connections).toHaveLength(1)
    const tls = report.connections[0]!.facts.tls!
    expect(tls.alerts).toHaveLength(LIST_CAPS.alerts + 1)
    expect(tls.alerts.at(-1)).toMatchObject({level: 2, description: 40})
    expect(tls.truncated).toMatchObject({alerts: count - LIST_CAPS.alerts, records: count + 1 - LIST_CAPS.records})
    // tls.alerts judges by the fatal alert even though it came after the cap.
    expect(report.connections[0]!.checks.find((c) => c.id === 'tls.alerts')?.status).toBe('fail')
    // Alerts read but not listed are not "unreadable" ones.
    const closes = analyze(captureOfClientStream(repeated(CLOSE_NOTIFY, count))).connections[0]!.checks.find((c) => c.id === 'tls.alerts')!
    expect(closes.summary).toContain(`${count} readable close_notify`)
    expect(closes.evidence.values).toMatchObject({unreadableAlertRecords: 0})
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
    const table = renderTable(report, {color: false, width: 100, timeline: 'all'})
    expect(table).toContain('handshake_failure')
  })

  it('200,000 SYN retransmissions: 64 listed, the rest counted; tcp.syn cites 32 frames and counts the rest', () => {
    const count = 200_000
    const syns = Buffer.concat([PCAP.subarray(0, 24), ...Array.from({length: count + 1}, () => SYN)])
    const report = analyze(syns)
    const tcp = report.connections[0]!.facts.tcp
    expect(tcp.synRetransmissions).toHaveLength(LIST_CAPS.synRetransmissions)
    expect(tcp.truncated).toEqual({synRetransmissions: count - LIST_CAPS.synRetransmissions})
    const syn = report.connections[0]!.checks.find((c) => c.id === 'tcp.syn')!
    expect(syn.evidence.frames).toHaveLength(LIST_CAPS.evidenceFrames)
    expect(syn.evidence.truncated).toEqual({frames: 1 + LIST_CAPS.synRetransmissions - LIST_CAPS.evidenceFrames})
    // The counts in words are of every SYN, listed or not.
    expect(syn.summary).toContain(`(${count} retransmissions)`)
    expect(report.connections[0]!.checks.find((c) => c.id === 'tcp.syn-ack')!.evidence.values).toMatchObject({syns: count + 1})
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
  })

  it('200,000 SYN-ACK retransmissions: 64 listed, the rest counted', () => {
    const count = 200_000
    const report = analyze(Buffer.concat([PCAP.subarray(0, 24), SYN, ...Array.from({length: count + 1}, () => SYN_ACK)]))
    const tcp = report.connections[0]!.facts.tcp
    expect(tcp.synAckRetransmissions).toHaveLength(LIST_CAPS.synAckRetransmissions)
    expect(tcp.truncated).toEqual({synAckRetransmissions: count - LIST_CAPS.synAckRetransmissions})
  })

  it('50,000 ClientHellos in one connection: 16 kept, the rest counted, and the reader holds well under a MiB per 10k', () => {
    const hello = CLIENT_HELLO.subarray(PAYLOAD_AT)
    const count = 50_000
    const before = liveHeap()
    const reader = new TlsConnectionReader()
    for (let i = 0; i < count; i++) reader.data('c2s', hello, {frame: 4 + i, ts: i})
    const held = liveHeap() - before
    const tls = reader.facts()
    expect(tls.clientHellos).toHaveLength(LIST_CAPS.clientHellos)
    expect(tls.truncated).toMatchObject({clientHellos: count - LIST_CAPS.clientHellos})
    // Each kept ClientHello (fingerprints included) is a few KB: 50,000 of them were ~250 MB.
    expect(held, `${(held / 2 ** 20).toFixed(1)} MiB held`).toBeLessThan(8 * 2 ** 20)
  })

  it('malformed handshake messages: the TLS issues are capped at issuesPerSource and counted on the connection', () => {
    // A ClientHello header (type 1, length 1) around one byte: too short to parse.
    const malformed = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03)
    const count = 20_000
    const report = analyze(captureOfClientStream(repeated(malformed, count)))
    const facts = report.connections[0]!.facts
    expect(facts.issues.filter((i) => i.code === 'tls.malformed-handshake')).toHaveLength(LIST_CAPS.issuesPerSource)
    // Every malformed message is one issue; the connection may add one of its own (its end).
    expect(facts.truncated!.issues).toBeGreaterThanOrEqual(count - LIST_CAPS.issuesPerSource)
    expect(facts.truncated!.issues).toBeLessThanOrEqual(count + 1 - LIST_CAPS.issuesPerSource)
    expect(facts.issues.length).toBeLessThanOrEqual(3 * LIST_CAPS.issuesPerSource)
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
  })

  it('an upgrade request of 1,000 headers keeps 256 and counts the rest', () => {
    const request = `GET /ws HTTP/1.1\r\nHost: console\r\n${'X-A: b\r\n'.repeat(1000)}\r\n`
    const reader = new WebSocketConnectionReader()
    reader.data('c2s', new TextEncoder().encode(request), {frame: 4, ts: 0})
    const {http} = reader.facts
    expect(http.request?.headers).toHaveLength(LIST_CAPS.httpHeaders)
    expect(http.truncated).toEqual({requestHeaders: 1001 - LIST_CAPS.httpHeaders})
  })
})

describe('key logs that the input grows', () => {
  it('200,000 malformed lines: 100 issues kept, the rest counted, through merge and the store', () => {
    const count = 200_000
    const log = parseKeyLog('x\n'.repeat(count), 'k.log')
    expect(log.issues).toHaveLength(LIST_CAPS.keyLogIssues)
    expect(log.truncated).toEqual({issues: count - LIST_CAPS.keyLogIssues})
    const merged = mergeKeyLogs(log, parseKeyLog('y\n'.repeat(10), 'other.log'))
    expect(merged.issues).toHaveLength(LIST_CAPS.keyLogIssues)
    expect(merged.truncated).toEqual({issues: count + 10 - LIST_CAPS.keyLogIssues})
    const store = new KeyStore()
    store.addFile('k.log', log)
    expect(store.facts()).toMatchObject({truncated: {issues: count - LIST_CAPS.keyLogIssues}})
  })

  it('150,000 Decryption Secrets Blocks are merged without spreading them into a call', () => {
    const blocks = Array.from({length: 150_000}, (_, i) => ({secretsType: 0x544c534b, offset: i * 32, data: new TextEncoder().encode('# comment\n')}))
    const log = keyLogFromDecryptionSecrets(blocks)
    expect(log.sessions.size).toBe(0)
    expect(log.issues).toEqual([])
  })
})
