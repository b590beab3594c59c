/**
 * The timeline against the facts of every fixture (fixtures/**\/expected.json): each TCP flag,
 * hello, CCS and alert the facts hold is drawn once at its frame, every encrypted byte is drawn
 * somewhere, events run in capture order, and every failing check is marked at its step. The
 * ladder fits 80 columns without colour and is plain ASCII then. Sequences for single fixtures
 * come from the tshark listings in their READMEs.
 */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {loadCaBundle} from '../../src/analysis/cert-policy.js'
import {buildPolicy, type PolicyInput} from '../../src/analysis/policy.js'
import {isCaptureFacts, type CaptureReport, type ConnectionReport} from '../../src/model/report.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import {checkTlsFinished} from '../../src/checks/tls-finished.js'
import type {CheckId} from '../../src/model/checks.js'
import {loadKeyStore} from '../../src/keys/store.js'
import {buildTimeline, type TimelineEvent, type TimelineEventKind} from '../../src/report/timeline.js'
import {renderTimeline} from '../../src/report/timeline-text.js'
import {CORPUS_PCAPS, FIXTURES, ROOT, fixtureDirs} from '../helpers/paths.js'
import {itWithJa4} from '../helpers/skip.js'

interface Expected {
  capture?: string
  args?: string[]
  ports?: number[]
  connections: Array<{facts?: {synFrame?: number | null; synRetransmissionFrames?: number[]; synAckFrame?: number | null; ackFrame?: number | null; rst?: Array<{frame: number; from: string}>; fin?: Array<{frame: number; from: string}>}}>
}

/**
 * The analyze flags the fixtures' default runs use (see test/e2e/fixtures.test.ts for the full
 * mapping); `keylog`, a key log file beside the capture, as --keylog would load it.
 */
async function analyzeFixture(dir: string, keylog?: string): Promise<{report: CaptureReport; expected: Expected}> {
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
  const keys = keylog === undefined ? undefined : (await loadKeyStore([join(dir, keylog)], {})).store
  const report = await analyzeCapture(join(dir, capture), {policy: buildPolicy(policy), certificates: {ca: ca ? loadCaBundle(ca) : undefined}, ...(keys ? {keys} : {})})
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
  'proxy.connect': ['proxy-response', 'proxy-request'],
}

const dirs = fixtureDirs()
const cases = dirs.map((dir) => [relative(FIXTURES, dir), dir] as const)
const keyedCases = cases.filter(([, dir]) => existsSync(join(dir, 'keys.log')))

/**
 * Each TCP flag, hello, CCS and alert of the facts drawn once at its frame, every protected byte
 * drawn once, events in capture order, each failing check marked once at its step.
 */
function expectEventsEqualFacts(report: CaptureReport, expected: Expected): void {
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
      // Every byte of every protected record is drawn in one event: encrypted, or (keys given,
      // by --keylog or a pcapng Decryption Secrets Block) the message, alert, HTTP or WebSocket event read from it.
      expect(sumBytes(events)).toBe(protectedRecordBytes(conn))
      if (tls.handshakeMessages.some((m) => m.decrypted)) expect(framesOf(events, 'encrypted-flight')).toEqual([])
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
}

describe('buildTimeline on every fixture', () => {
  it('finds the fixtures', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(20)
  })

  it.each(cases)('%s: events equal the facts, in order, failing steps marked', async (_name, dir) => {
    const {report, expected} = await analyzeFixture(dir)
    expectEventsEqualFacts(report, expected)
  })

  // The same with the fixture's key log: decrypted messages, alerts, HTTP and WebSocket events.
  it.each(keyedCases)('%s with keys.log: events equal the facts, in order, failing steps marked', async (_name, dir) => {
    const {report, expected} = await analyzeFixture(dir, 'keys.log')
    expectEventsEqualFacts(report, expected)
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

/**
 * Bytes of the protected records: TLS 1.3 application_data records, TLS 1.2 records after
 * ChangeCipherSpec, alerts no alert fact reads. Plaintext messages and alerts carry no bytes.
 */
function protectedRecordBytes(conn: ConnectionReport<ConnectionFacts>): number {
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

async function fixtureConnection(name: string, keylog?: string): Promise<ConnectionReport<ConnectionFacts>> {
  const {report} = await analyzeFixture(join(FIXTURES, name), keylog)
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
    // The client's first data record (frame 14, 37 B) carries the ws.upgrade warning and stays on
    // its own line; the three records after it (frames 16, 18, 20) are the routine run.
    const marked = full.filter((e) => e.kind === 'application-data' && e.marks.length > 0)
    expect(marked.map((e) => [e.frame, e.bytes, e.marks.map((m) => m.checkId)])).toEqual([[14, 37, ['ws.upgrade']]])
    const data = full.filter((e) => e.kind === 'application-data' && e.frame > 14)
    expect(data.map((e) => e.frame)).toEqual([16, 18, 20])
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

describe('a proxy in front of TLS', () => {
  it('http-connect-407: CONNECT and the 407 drawn at their frames, proxy.connect marked at the 407 (README tshark listing)', async () => {
    const {report} = await analyzeFixture(join(FIXTURES, 'proxy', 'http-connect-407'))
    expect(report.connections).toHaveLength(2)
    const [refused, tunnelled] = report.connections.map((c) => buildTimeline(c, {maxRoutine: Infinity}))
    // tshark -d tcp.port==3128,http -Y http: 4 CONNECT console.test:8084, 6 407 Proxy Authentication Required
    // (Proxy-Authenticate: Basic), 14 CONNECT with Proxy-Authorization: Basic, 16 200 Connection established.
    expect(refused.map((e) => [e.frame, e.from, e.kind, e.label])).toEqual([
      [1, 'client', 'syn', 'SYN'],
      [2, 'server', 'syn-ack', 'SYN-ACK'],
      [3, 'client', 'ack', 'ACK'],
      [4, 'client', 'proxy-request', 'CONNECT console.test:8084'],
      [6, 'server', 'proxy-response', '407 Proxy Authentication Required'],
      [8, 'client', 'fin', 'FIN'],
      [9, 'server', 'fin', 'FIN'],
    ])
    expect(refused[4].detail).toBe('Proxy-Authenticate Basic')
    expect(refused[4].marks.map((m) => [m.checkId, m.status])).toEqual([['proxy.connect', 'fail']])
    expect(tunnelled.slice(3, 6).map((e) => [e.frame, e.kind, e.label, e.detail])).toEqual([
      [14, 'proxy-request', 'CONNECT console.test:8084', 'Proxy-Authorization Basic'],
      [16, 'proxy-response', '200 Connection established', 'tunnel open'],
      [18, 'client-hello', 'ClientHello', 'SNI console.test, TLS 1.3/1.2/1.1/1.0'],
    ])
    // The right-hand lane is the proxy the Defender connected to.
    const ladder = renderTimeline(report.connections[0], {color: false, width: 80}).split('\n')
    expect(ladder[1]).toMatch(/client 127\.0\.0\.1:56418 +proxy 127\.0\.0\.60:3128 frame$/)
    const answer = ladder.findIndex((l) => l.includes('407'))
    // 8.317 ms: frame 6 at 0.008317 s (the connection starts at frame 1, time 0).
    expect(ladder[answer]).toMatch(/^\s*8\.317 X \|<-+ 407 Proxy Authentication Required --\|\s+6$/)
    expect(ladder[answer + 1]).toContain('Proxy-Authenticate Basic')
    expect(ladder[answer + 2]).toContain('-> FAIL proxy.connect: the proxy wants credentials')
    expect(renderTimeline(report.connections[1], {color: false, width: 100}).split('\n')[1]).toContain('Console via proxy 127.0.0.60:3128')
  })

  itWithJa4('corpus socks4-https.pcap: the SOCKS4a request by name and the granted reply', async () => {
    // tshark -d tcp.port==9901,socks -O socks: frame 4 Connect, port 443, SOCKS v4a name login.live.com; frame 6 Results(V4): Granted (90).
    const report = await analyzeCapture(join(CORPUS_PCAPS, 'socks4-https.pcap'), {policy: buildPolicy({ports: ['9901']})})
    const events = buildTimeline(report.connections[0])
    expect(events.filter((e) => e.kind.startsWith('proxy-')).map((e) => [e.frame, e.from, e.label, e.detail])).toEqual([
      [4, 'client', 'SOCKS4a CONNECT login.live.com:443', undefined],
      [6, 'server', 'reply: request granted', 'CD 90, tunnel open'],
    ])
    // Port 443 is not a Console port: proxy.connect warns, at the reply.
    expect(events.find((e) => e.frame === 6)!.marks.map((m) => [m.checkId, m.status])).toEqual([['proxy.connect', 'warn']])
  })
})

describe('not TLS', () => {
  itWithJa4('corpus ssh-r.pcap on port 22: the SSH banner drawn at its frame and time, tls.client-hello marked there', async () => {
    // tshark -T fields -e frame.number -e frame.time_relative: frame 4 at 0.010047 s, "SSH-2.0-PuTTY_Release_0.74".
    const report = await analyzeCapture(join(CORPUS_PCAPS, 'ssh-r.pcap'), {policy: buildPolicy({ports: ['22']})})
    const events = buildTimeline(report.connections[0])
    const notTls = events.find((e) => e.kind === 'not-tls')!
    expect([notTls.frame, notTls.from, notTls.detail]).toEqual([4, 'client', 'starts "SSH-2.0-PuTTY_Re"'])
    expect(notTls.ms).toBeCloseTo(10.047, 3)
    expect(notTls.marks.map((m) => m.checkId)).toEqual(['tls.client-hello'])
  })
})

describe('with keys', () => {
  const summary = (events: TimelineEvent[]) => events.map((e) => [e.frame, e.from, e.kind, e.label, e.detail, e.verified, e.records, e.bytes])

  it('node-mtls: --keylog and the pcapng Decryption Secrets Block draw the same ladder, every protected byte once', async () => {
    const withKeylog = await fixtureConnection('wss/node-mtls', 'keys.log')
    const withDsb = await fixtureConnection('wss/node-mtls-dsb')
    expect(isCaptureFacts(withDsb.facts) && withDsb.facts.tls?.decryption?.keys).toBe('found')
    const events = buildTimeline(withKeylog, {maxRoutine: Infinity})
    expect(summary(buildTimeline(withDsb, {maxRoutine: Infinity}))).toEqual(summary(events))
    // Decrypted messages replace the encrypted flights.
    expect(framesOf(events, 'encrypted-flight')).toEqual([])
    expect(events.filter((e) => e.kind === 'handshake' && e.from === 'server' && e.frame === 6).map((e) => e.label)).toEqual([
      'EncryptedExtensions',
      'CertificateRequest',
      'Certificate',
      'CertificateVerify',
      'Finished',
    ])
    // tshark -T fields -e frame.number -e tls.record.length: the application_data records (frame 6
    // from the third record on) sum to 7225 bytes.
    expect(sumBytes(events)).toBe(7225)
    // Frames 11-23 (data, pings, pongs): client 36+32+31+325+32, server 32+27+28+321+28 (same listing).
    const folded = buildTimeline(withKeylog, {maxRoutine: 3}).find((e) => e.kind === 'collapsed')!
    expect([folded.frame, folded.lastFrame, folded.folded]).toEqual([11, 23, {events: 10, records: 10, c2sBytes: 456, s2cBytes: 436, pings: 3}])
  })

  it('openssl13-mtls: both Finished messages decrypted and verified, drawn ✓ (ASCII ok); a mismatch ✗ (MISMATCH), marked', async () => {
    const conn = await fixtureConnection('tls/openssl13-mtls', 'keys.log')
    const events = buildTimeline(conn)
    // tshark -o tls.keylog_file:keys.log -Y tls.handshake.type==20: server Finished in frame 6, the client's in frame 8.
    // Both verify: the client sent its Finished after the server's, the server its tickets after the client's (RFC 8446 §4.4.4).
    expect(events.filter((e) => e.label === 'Finished').map((e) => [e.frame, e.from, e.decrypted, e.verified])).toEqual([
      [6, 'server', true, true],
      [8, 'client', true, true],
    ])
    const finishedLines = (c: ConnectionReport, ascii: boolean) =>
      renderTimeline(c, {color: false, ascii, width: 80})
        .split('\n')
        .filter((l) => l.includes('Finished'))
    expect(finishedLines(conn, true)).toEqual([
      expect.stringMatching(/\|<-+ Finished ok \(verify_data checked\)  decrypted --\|\s+6$/),
      expect.stringMatching(/\|-- Finished ok \(verify_data checked\)  decrypted -+>\|\s+8$/),
    ])
    expect(finishedLines(conn, false)[0]).toContain('Finished ✓ (verify_data checked)')

    // The same connection had the client's verify_data not matched: tls.finished fails and is drawn there.
    const bad = structuredClone(conn)
    if (!isCaptureFacts(bad.facts) || !bad.facts.tls?.finished?.client) throw new Error('decrypted facts expected')
    bad.facts.tls.finished.client.verified = false
    bad.checks = bad.checks.map((c) => (c.id === 'tls.finished' ? checkTlsFinished(bad.facts) : c))
    expect(bad.checks.find((c) => c.id === 'tls.finished')?.status).toBe('fail')
    const marked = buildTimeline(bad).filter((e) => e.marks.some((m) => m.checkId === 'tls.finished'))
    expect(marked.map((e) => [e.frame, e.label, e.verified])).toEqual([[8, 'Finished', false]])
    expect(finishedLines(bad, true)[1]).toMatch(/^\s*5\.\d{3} X \|-- Finished MISMATCH  decrypted -+>\|\s+8$/)
    expect(finishedLines(bad, false)[1]).toContain('Finished ✗  decrypted')
  })
})
