/**
 * The timeline against the facts of every fixture (fixtures/**\/expected.json): each TCP flag,
 * hello, CCS and alert the facts hold is drawn once at its frame, every encrypted byte is drawn
 * somewhere, events run in capture order, and every failing check is marked at its step. The
 * ladder fits 80 columns without colour and is plain ASCII then. Sequences for single fixtures
 * come from the tshark listings in their READMEs.
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {loadCaBundle} from '../../src/analysis/cert-policy.js'
import {buildPolicy, type PolicyInput} from '../../src/analysis/policy.js'
import {isCaptureFacts, type CaptureReport, type ConnectionFacts, type ConnectionReport} from '../../src/analysis/types.js'
import type {CheckId} from '../../src/checks/types.js'
import {buildTimeline, httpFactsOf, wsFactsOf, type TimelineEvent, type TimelineEventKind} from '../../src/report/timeline.js'
import {renderTimeline} from '../../src/report/timeline-text.js'
import {FIXTURES, ROOT, fixtureDirs} from '../helpers/paths.js'

interface Expected {
  capture?: string
  args?: string[]
  ports?: number[]
  connections: Array<{facts?: {synFrame?: number | null; synRetransmissionFrames?: number[]; synAckFrame?: number | null; ackFrame?: number | null; rst?: Array<{frame: number; from: string}>; fin?: Array<{frame: number; from: string}>}}>
}

/** The analyze flags the fixtures' default runs use (see test/e2e/fixtures.test.ts for the full mapping). */
async function analyzeFixture(dir: string): Promise<{report: CaptureReport; expected: Expected}> {
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected
  const args = expected.args ?? (expected.ports ?? []).flatMap((p) => ['--port', String(p)])
  const policy: PolicyInput = {ports: []}
  let ca: string | undefined
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1]
    if (args[i] === '--port') policy.ports!.push(value)
    else if (args[i] === '--console') policy.console = value
    else if (args[i] === '--min-tls') policy.minTls = value
    else if (args[i] === '--ca') policy.caFile = ca = join(ROOT, value)
    else throw new Error(`${dir}: flag not mapped here: ${args[i]}`)
  }
  if (policy.ports!.length === 0) delete policy.ports
  const capture = expected.capture ?? readdirSync(dir).find((n) => /\.(pcap|pcapng)$/.test(n))!
  const report = await analyzeCapture(join(dir, capture), {policy: buildPolicy(policy), certificates: {ca: ca ? loadCaBundle(ca) : undefined}})
  return {report, expected}
}

const framesOf = (events: TimelineEvent[], kind: TimelineEventKind, from?: string) =>
  events.filter((e) => e.kind === kind && (from === undefined || e.from === from)).map((e) => e.frame)

/** The steps a failing check may be drawn at (issue 8: map check id → event). */
const STEP_KINDS: Partial<Record<CheckId, TimelineEventKind[]>> = {
  'tcp.syn-ack': ['rst', 'syn'],
  'tcp.ack': ['rst', 'syn'],
  'tls.client-hello': ['client-hello', 'not-tls'],
  'tls.version': ['server-hello'],
  'tls.certificate': ['handshake', 'encrypted-flight'],
  'tls.client-certificate': ['handshake', 'encrypted-flight'],
  'tls.finished': ['alert', 'encrypted-alert'],
  'tls.alerts': ['alert', 'encrypted-alert'],
}

const dirs = fixtureDirs()
const cases = dirs.map((dir) => [relative(FIXTURES, dir), dir] as const)

describe('buildTimeline on every fixture', () => {
  it('finds the fixtures', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(20)
  })

  it.each(cases)('%s: events equal the facts, in order, failing steps marked', async (_name, dir) => {
    const {report, expected} = await analyzeFixture(dir)
    report.connections.forEach((conn, index) => {
      // No collapsing here: every record-level event must be comparable with the facts.
      const events = buildTimeline(conn, {maxRoutine: Infinity})
      if (!isCaptureFacts(conn.facts)) throw new Error('a capture report holds capture facts')
      const {tcp, tls} = conn.facts
      expect(framesOf(events, 'syn')).toEqual([tcp.syn, ...tcp.synRetransmissions].filter((r) => r !== undefined).map((r) => r.frame))
      expect(framesOf(events, 'syn-ack')).toEqual([tcp.synAck, ...tcp.synAckRetransmissions].filter((r) => r !== undefined).map((r) => r.frame))
      expect(framesOf(events, 'ack')).toEqual(tcp.ack ? [tcp.ack.frame] : [])
      expect(events.filter((e) => e.kind === 'rst').map((e) => [e.frame, e.from])).toEqual(tcp.rst.map((r) => [r.frame, r.from]))
      expect(events.filter((e) => e.kind === 'fin').map((e) => [e.frame, e.from])).toEqual(tcp.fin.map((r) => [r.frame, r.from]))
      // Independently: the frames tshark read back into expected.json (TCP fixtures).
      const want = expected.connections[index]?.facts
      // null in expected.json: tshark saw none.
      if (want && 'synFrame' in want) expect(framesOf(events, 'syn')).toEqual(want.synFrame === null ? [] : [want.synFrame, ...(want.synRetransmissionFrames ?? [])])
      if (want && 'synAckFrame' in want) expect(framesOf(events, 'syn-ack')[0] ?? null).toBe(want.synAckFrame)
      if (want && 'ackFrame' in want) expect(framesOf(events, 'ack')[0] ?? null).toBe(want.ackFrame)
      if (want?.fin) expect(events.filter((e) => e.kind === 'fin').map((e) => [e.frame, e.from])).toEqual(want.fin.map((f) => [f.frame, f.from]))
      if (want?.rst) expect(events.filter((e) => e.kind === 'rst').map((e) => [e.frame, e.from])).toEqual(want.rst.map((f) => [f.frame, f.from]))

      if (tls) {
        const hellos = tls.clientHellos.map((h) => h.frame)
        expect(framesOf(events, 'client-hello', 'client')).toEqual(hellos)
        expect(framesOf(events, 'server-hello', 'server')).toEqual(tls.serverHello ? [tls.serverHello.frame] : [])
        expect(framesOf(events, 'hello-retry-request', 'server')).toEqual(tls.helloRetryRequest ? [tls.helloRetryRequest.frame] : [])
        expect(framesOf(events, 'change-cipher-spec', 'client')).toEqual(tls.changeCipherSpec.c2s ? [tls.changeCipherSpec.c2s.frame] : [])
        expect(framesOf(events, 'change-cipher-spec', 'server')).toEqual(tls.changeCipherSpec.s2c ? [tls.changeCipherSpec.s2c.frame] : [])
        expect(events.filter((e) => e.kind === 'alert').map((e) => [e.frame, e.from])).toEqual(tls.alerts.map((a) => [a.frame, a.from]))
        const hello = events.find((e) => e.kind === 'client-hello')
        if (tls.clientHellos[0]?.sni !== undefined) expect(hello?.detail).toContain(`SNI ${tls.clientHellos[0].sni}`)
        const serverHello = events.find((e) => e.kind === 'server-hello')
        if (tls.cipherSuiteName) expect(serverHello?.detail).toBe(`${tls.versionName}, ${tls.cipherSuiteName}`)
        // Every byte of a record that could not be read as a message is drawn in some event.
        expect(sumBytes(events)).toBe(opaqueRecordBytes(conn))
      }

      for (let i = 1; i < events.length; i++) {
        expect(events[i].frame).toBeGreaterThanOrEqual(events[i - 1].frame)
        expect(events[i].ts).toBeGreaterThanOrEqual(events[i - 1].ts)
      }
      for (const event of events) expect(event.ms).toBeCloseTo((event.ts - tcp.startTs) * 1000, 6)

      for (const check of conn.checks.filter((c) => c.status === 'fail')) {
        const marked = events.filter((e) => e.marks.some((m) => m.checkId === check.id))
        expect(marked, `${check.id} marked once`).toHaveLength(1)
        const kinds = STEP_KINDS[check.id]
        if (kinds) expect(kinds, `${check.id} at ${marked[0].kind}`).toContain(marked[0].kind)
        if (check.evidence.frames.length > 0) expect(check.evidence.frames).toContain(marked[0].frame)
      }
      for (const check of conn.checks.filter((c) => c.status === 'pass' || c.status === 'skip')) {
        expect(events.some((e) => e.marks.some((m) => m.checkId === check.id))).toBe(false)
      }
    })
  })

  it.each(cases)('%s: the ladder fits 80 columns, ASCII without colour', async (_name, dir) => {
    const {report} = await analyzeFixture(dir)
    for (const conn of report.connections) {
      const plain = renderTimeline(conn, {color: false, width: 80})
      for (const line of plain.split('\n')) {
        expect(line.length, line).toBeLessThanOrEqual(80)
        expect(line).toMatch(/^[\x20-\x7e]*$/)
      }
      const colored = renderTimeline(conn, {color: true, width: 80, ascii: false})
      for (const line of colored.split('\n')) expect(stripAnsi(line).length, line).toBeLessThanOrEqual(80)
      // One arrow line per event, with its frame at the end.
      const events = buildTimeline(conn)
      const arrows = plain.split('\n').filter((l) => /^\s*~?\d+(\.\d+)? /.test(l))
      expect(arrows.map((l) => Number(l.trim().split(/\s+/).pop()!.split('-')[0]))).toEqual(events.map((e) => e.frame))
    }
  })
})

/** Record bytes no message or alert fact reads: TLS 1.3 application_data records, TLS 1.2 records after ChangeCipherSpec. */
function opaqueRecordBytes(conn: ConnectionReport<ConnectionFacts>): number {
  const tls = conn.facts.tls!
  const ccs = {c2s: false, s2c: false}
  let total = 0
  for (const r of tls.records) {
    if (r.contentType === 20) ccs[r.direction] = true
    const side = r.direction === 'c2s' ? 'client' : 'server'
    const readAlert = r.contentType === 21 && tls.alerts.some((a) => a.frame === r.frame && a.from === side)
    if (r.contentType === 23 || (r.contentType === 22 && ccs[r.direction] && tls.version !== 0x0304) || (r.contentType === 21 && !readAlert)) total += r.length
  }
  return total
}

function sumBytes(events: TimelineEvent[]): number {
  return events.filter((e) => e.kind !== 'gap' && e.records !== undefined).reduce((n, e) => n + (e.bytes ?? 0), 0)
}

function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '')
}

async function fixtureConnection(name: string): Promise<ConnectionReport<ConnectionFacts>> {
  const {report} = await analyzeFixture(join(FIXTURES, name))
  expect(report.connections).toHaveLength(1)
  return report.connections[0]
}

describe('single fixtures, against their READMEs', () => {
  it('openssl13-nocert: the ladder of the rejected client flight (README tshark listing)', async () => {
    const conn = await fixtureConnection('tls/openssl13-nocert')
    const events = buildTimeline(conn)
    expect(events.map((e) => [e.frame, e.from, e.kind])).toEqual([
      [1, 'client', 'syn'],
      [2, 'server', 'syn-ack'],
      [3, 'client', 'ack'],
      [4, 'client', 'client-hello'],
      [6, 'server', 'server-hello'],
      [6, 'server', 'change-cipher-spec'],
      [6, 'server', 'encrypted-flight'],
      [8, 'client', 'change-cipher-spec'],
      [8, 'client', 'encrypted-flight'],
      [9, 'client', 'application-data'],
      [10, 'server', 'encrypted-alert'],
      [11, 'client', 'fin'],
      [12, 'server', 'fin'],
    ])
    // Record lengths from the README: server 23+124+1055+281+69, client 25+69, then 37 and 19.
    expect(events[6]).toMatchObject({records: 5, bytes: 1552})
    expect(events[8]).toMatchObject({records: 2, bytes: 94})
    expect(events[8].detail).toContain('empty Certificate, Finished')
    expect(events[9].bytes).toBe(37)
    expect(events[10].bytes).toBe(19)
    expect(events[8].marks.map((m) => m.checkId)).toEqual(['tls.client-certificate'])
    expect(events[10].marks.map((m) => m.checkId)).toEqual(['tls.finished', 'tls.alerts'])
    const ladder = renderTimeline(conn, {color: false, width: 80}).split('\n')
    const flight = ladder.findIndex((l) => l.includes('encrypted flight') && l.trim().endsWith(' 8'))
    expect(ladder[flight]).toMatch(/^\s*4\.\d{3} X \|-- encrypted flight -+>\|\s+8$/)
    expect(ladder[flight + 1]).toContain('2 records, 94 B: empty Certificate, Finished')
    expect(ladder[flight + 2]).toContain('-> FAIL tls.client-certificate: give the Defender its client')
  })

  it('refused: SYN answered by RST, the RST marked; colour paints it red', async () => {
    const conn = await fixtureConnection('tcp/refused')
    const events = buildTimeline(conn)
    expect(events.map((e) => [e.frame, e.kind, e.detail])).toEqual([
      [1, 'syn', undefined],
      [2, 'rst', 'refused'],
    ])
    expect(events[1].marks.map((m) => m.checkId)).toEqual(['tcp.syn-ack', 'tcp.ack'])
    const colored = renderTimeline(conn, {color: true, width: 80}).split('\n')
    const rst = colored.find((l) => l.includes('RST'))!
    expect(rst).toContain('\u001b[31m')
    expect(colored.find((l) => l.includes('SYN'))).not.toContain('\u001b[31m')
  })

  it('filtered: four SYNs (README: 1 s, 2 s, 3 s apart), the last one marked unanswered', async () => {
    const conn = await fixtureConnection('tcp/filtered')
    const events = buildTimeline(conn)
    expect(events.map((e) => [e.frame, e.kind, e.retransmission ?? false])).toEqual([
      [1, 'syn', false],
      [2, 'syn', true],
      [3, 'syn', true],
      [4, 'syn', true],
    ])
    expect(events[3].marks.map((m) => m.checkId)).toEqual(['tcp.syn-ack', 'tcp.ack'])
    expect(events[3].ms).toBeGreaterThan(3000)
  })

  it('hello-retry: two ClientHellos around the HelloRetryRequest, the client CCS before the second', async () => {
    const events = buildTimeline(await fixtureConnection('tls/hello-retry'))
    expect(events.slice(3, 9).map((e) => [e.frame, e.kind])).toEqual([
      [4, 'client-hello'],
      [6, 'hello-retry-request'],
      [6, 'change-cipher-spec'],
      [8, 'change-cipher-spec'],
      [8, 'client-hello'],
      [9, 'server-hello'],
    ])
  })

  it('openssl12-nocert: plaintext TLS 1.2 messages, empty client Certificate and the alert marked', async () => {
    const events = buildTimeline(await fixtureConnection('tls/openssl12-nocert'))
    const labels = events.filter((e) => e.kind === 'handshake').map((e) => [e.frame, e.from, e.label, e.detail])
    expect(labels).toEqual([
      [6, 'server', 'Certificate', 'CN=console.test'],
      [6, 'server', 'ServerKeyExchange', undefined],
      [6, 'server', 'CertificateRequest', undefined],
      [6, 'server', 'ServerHelloDone', undefined],
      [8, 'client', 'Certificate', 'empty'],
      [8, 'client', 'ClientKeyExchange', undefined],
      [8, 'client', 'Finished', 'encrypted, 40 B'],
    ])
    const alert = events.find((e) => e.kind === 'alert')!
    expect([alert.frame, alert.from, alert.detail]).toEqual([9, 'server', 'fatal handshake_failure (40)'])
    expect(alert.marks.map((m) => m.checkId)).toEqual(['tls.finished', 'tls.alerts'])
  })

  it('collapses a run of application data into one line with the bytes each way', async () => {
    const conn = await fixtureConnection('tls/hello-retry')
    const full = buildTimeline(conn, {maxRoutine: Infinity})
    const data = full.filter((e) => e.kind === 'application-data')
    expect(data.length).toBeGreaterThan(2)
    const collapsed = buildTimeline(conn, {maxRoutine: 2})
    const folded = collapsed.filter((e) => e.kind === 'collapsed')
    expect(folded).toHaveLength(1)
    const sum = (from: string) => data.filter((e) => e.from === from).reduce((n, e) => n + e.bytes!, 0)
    expect(folded[0].folded).toMatchObject({events: data.length, c2sBytes: sum('client'), s2cBytes: sum('server')})
    expect([folded[0].frame, folded[0].lastFrame]).toEqual([data[0].frame, data[data.length - 1].frame])
    expect(collapsed).toHaveLength(full.length - data.length + 1)
    expect(renderTimeline(conn, {color: false, width: 80, maxRoutine: 2})).toMatch(/\.\.\. \d+ records\s+[\d.]+ K?B ->, [\d.]+ K?B <-, over [\d.]+ (ms|s|min)/)
  })
})

describe('HTTP and WebSocket facts, when present', () => {
  it('ignores shapes it does not know and reads dissect/http and dissect/websocket facts', () => {
    expect(httpFactsOf(undefined)).toBeUndefined()
    expect(httpFactsOf({request: 'GET /'})).toBeUndefined()
    expect(wsFactsOf({pings: 'x', close: {}})).toBeUndefined()
    const http = httpFactsOf({
      request: {frame: 12, ts: 5, method: 'GET', path: '/connect', httpVersion: 'HTTP/1.1', headers: []},
      response: {frame: 14, ts: 6, httpVersion: 'HTTP/1.1', status: 101, reason: 'Switching Protocols', headers: [], acceptValid: true},
      upgraded: true,
    })
    expect(http).toEqual({
      request: {frame: 12, ts: 5, method: 'GET', path: '/connect', httpVersion: 'HTTP/1.1'},
      response: {frame: 14, ts: 6, status: 101, reason: 'Switching Protocols', acceptValid: true},
    })
  })

  it('draws the upgrade, pings, pongs and close in place of the application data records of their frames', async () => {
    const conn = structuredClone(await fixtureConnection('tls/hello-retry'))
    const data = buildTimeline(conn, {maxRoutine: Infinity}).filter((e) => e.kind === 'application-data')
    // Put the request/response and a ping/pong on real application data records of this capture.
    const [c1, s1] = [data.find((e) => e.from === 'client')!, data.find((e) => e.from === 'server')!]
    // Only the fields the timeline reads; the rest of HttpUpgradeFacts / WebSocketFacts is irrelevant here.
    conn.facts.http = {request: {frame: c1.frame, ts: c1.ts, method: 'GET', path: '/ws', httpVersion: 'HTTP/1.1'}, response: {frame: s1.frame, ts: s1.ts, status: 101, reason: 'Switching Protocols', acceptValid: false}} as unknown as ConnectionFacts['http']
    conn.facts.ws = {pings: [], close: {client: {frame: data[data.length - 1].frame, ts: data[data.length - 1].ts, code: 1000}}} as unknown as ConnectionFacts['ws']
    const events = buildTimeline(conn, {maxRoutine: Infinity})
    expect(events.find((e) => e.kind === 'http-request')).toMatchObject({frame: c1.frame, from: 'client', label: 'GET /ws'})
    expect(events.find((e) => e.kind === 'http-response')).toMatchObject({frame: s1.frame, from: 'server', label: '101 Switching Protocols'})
    expect(events.find((e) => e.kind === 'http-response')!.detail).toContain('Sec-WebSocket-Accept ✗')
    expect(events.find((e) => e.kind === 'ws-close')).toMatchObject({from: 'client', detail: '1000'})
    expect(events.filter((e) => e.kind === 'application-data').map((e) => e.frame)).not.toContain(c1.frame)
  })
})
