/**
 * The conversation picture of one connection: one event per thing that crossed the wire, in
 * capture order, each with the side that sent it and its time relative to the connection's first
 * packet. Derived from the facts only (never bytes), so the terminal ladder (timeline-text.ts)
 * and the SVG ladder (html-ladder.ts) draw exactly the same events.
 *
 * TLS events come from one walk over the record list (tls.records, in stream order), which puts
 * the messages a frame carries in the order they were sent: ServerHello, then ChangeCipherSpec,
 * then the encrypted flight. Without keys a TLS 1.3 flight is one event (its records and bytes,
 * and what its size says, see analysis/derive.ts); with keys the decrypted messages replace it.
 * Every protected record is drawn in exactly one event, with its bytes: the encrypted event, or
 * the decrypted message, alert, HTTP or WebSocket event read from its frame, so a collapsed run
 * counts the bytes of the pings it folds.
 *
 * A proxy in front of TLS (HTTP CONNECT, SOCKS) adds its request and answer before the TLS events.
 */
import {derivedOf} from '../analysis/derive.js'
import {isCaptureFacts, type ConnectionReport} from '../model/report.js'
import type {ProxyFacts} from '../dissect/proxy/types.js'
import type {CheckId} from '../model/checks.js'
import {formatMs} from '../format.js'
import type {ClientFlightKind, ConnectionFacts, Tls13Handshake} from '../model/facts.js'
import {isGrease} from '../dissect/tls/grease.js'
import {CIPHER_SUITES} from '../dissect/tls/iana/cipher-suites.js'
import {
  CONTENT_ALERT,
  CONTENT_APPLICATION_DATA,
  CONTENT_CHANGE_CIPHER_SPEC,
  CONTENT_HANDSHAKE,
} from '../dissect/tls/iana/content-types.js'
import {HS_CERTIFICATE, HS_CLIENT_HELLO, HS_FINISHED, HS_SERVER_HELLO} from '../dissect/tls/iana/handshake-types.js'
import {nameOf} from '../dissect/tls/iana/table.js'
import {VERSIONS} from '../dissect/tls/iana/versions.js'
import type {HandshakeMessageRef, TlsAlertInfo, TlsFacts, TlsRecordRef} from '../dissect/tls/types.js'
import type {Direction, FrameRef, Side} from '../stream/types.js'
import {markFailingSteps} from './timeline-marks.js'

export type TimelineEventKind =
  | 'syn'
  | 'syn-ack'
  | 'ack'
  | 'rst'
  | 'fin'
  /** Bytes the capture never saw (a TCP gap). */
  | 'gap'
  /** The proxy preamble: HTTP CONNECT or the SOCKS request, and the proxy's answer. */
  | 'proxy-request'
  | 'proxy-response'
  | 'client-hello'
  | 'hello-retry-request'
  | 'server-hello'
  /** Any other handshake message: plaintext (TLS 1.2), decrypted (TLS 1.3 with keys) or TLS 1.2's encrypted Finished. */
  | 'handshake'
  | 'change-cipher-spec'
  /** TLS 1.3 without keys: a side's encrypted handshake records, one event. */
  | 'encrypted-flight'
  | 'alert'
  /** An alert that could not be read (encrypted), or a TLS 1.3 record of exactly an alert's size. */
  | 'encrypted-alert'
  | 'application-data'
  /** The stream did not parse as TLS. */
  | 'not-tls'
  | 'http-request'
  | 'http-response'
  | 'ws-ping'
  | 'ws-pong'
  | 'ws-close'
  /** A run of routine events (application data, answered pings) shown as one line. */
  | 'collapsed'

/** A failing (or warning) check drawn at the step it is about. */
export interface TimelineMark {
  checkId: CheckId
  status: 'fail' | 'warn'
  summary: string
  hint?: string
}

export interface TimelineEvent {
  kind: TimelineEventKind
  /** Who sent it; 'both' only for a collapsed run. */
  from: Side | 'both'
  /** The frame that carried it (the first one, for flights and runs). */
  frame: number
  ts: number
  /** Milliseconds since the connection's first packet (tcp.startTs). */
  ms: number
  /** What it is, short: `SYN`, `ClientHello`, `Certificate`, `encrypted flight`. */
  label: string
  /** Its particulars: `SNI console.test, TLS 1.3/1.2`, `5 records, 1,552 B`. */
  detail?: string
  /** A retransmitted SYN or SYN-ACK. */
  retransmission?: boolean
  /** Read from decrypted records (keys given). */
  decrypted?: boolean
  /** Finished verify_data checked: true ✓, false ✗; absent when not checked. */
  verified?: boolean
  /**
   * Records and record bytes (TLS events: the protected records read into this event, with keys),
   * or payload bytes (application data without TLS).
   */
  records?: number
  bytes?: number
  /** Last frame of a flight or a collapsed run. */
  lastFrame?: number
  lastTs?: number
  /** Collapsed runs: events folded in, and the bytes each way. */
  folded?: {events: number; records: number; c2sBytes: number; s2cBytes: number; pings: number}
  marks: TimelineMark[]
}

/**
 * What the timeline reads of facts.http: the request line and the status. dissect/http's
 * HttpUpgradeFacts has this shape; anything else in facts.http is ignored.
 */
export interface TimelineHttpFacts {
  request?: FrameRef & {method: string; path: string; httpVersion: string}
  response?: FrameRef & {status: number; reason: string; acceptValid?: boolean}
}

/** What the timeline reads of facts.ws: pings with their pongs, and the close frames (dissect/websocket's WebSocketFacts fits). */
export interface TimelineWsFacts {
  pings: Array<FrameRef & {from: Side; pong?: FrameRef & {rttMs: number}}>
  pingCount?: number
  close: {client?: FrameRef & {code?: number; reason?: string}; server?: FrameRef & {code?: number; reason?: string}}
}

export interface TimelineOptions {
  /** Runs of more routine events than this (application data, answered pings) become one line. Default 6. */
  maxRoutine?: number
}

const DEFAULT_MAX_ROUTINE = 6

/**
 * Every event of a connection in capture order, failing steps marked, long routine runs
 * collapsed. A probe's own facts (no capture) have no frames to draw: no events.
 */
export function buildTimeline(conn: ConnectionReport, options: TimelineOptions = {}): TimelineEvent[] {
  const facts = conn.facts
  if (!isCaptureFacts(facts)) return []
  const tcp = facts.tcp
  const origin = tcp.startTs
  // Events are drafted with a rank inside their frame (TCP opening, TLS in record order,
  // HTTP/WebSocket, then FIN/RST: a FIN segment may carry the last data) and sorted once.
  const drafts: Array<{event: TimelineEvent; rank: number}> = []
  const add = (rank: number, ref: FrameRef, from: Side | 'both', kind: TimelineEventKind, label: string, extra: Partial<TimelineEvent> = {}) => {
    const event: TimelineEvent = {kind, from, frame: ref.frame, ts: ref.ts, ms: (ref.ts - origin) * 1000, label, ...extra, marks: []}
    drafts.push({rank, event})
    return event
  }

  if (tcp.syn) add(0, tcp.syn, 'client', 'syn', 'SYN')
  for (const ref of tcp.synRetransmissions) add(0, ref, 'client', 'syn', 'SYN', {retransmission: true, detail: 'retransmitted'})
  if (tcp.synAck) add(0, tcp.synAck, 'server', 'syn-ack', 'SYN-ACK')
  for (const ref of tcp.synAckRetransmissions) add(0, ref, 'server', 'syn-ack', 'SYN-ACK', {retransmission: true, detail: 'retransmitted'})
  if (tcp.ack) add(0, tcp.ack, 'client', 'ack', 'ACK', tcp.handshakeRttMs !== undefined ? {detail: `RTT ${formatMs(tcp.handshakeRttMs)}`} : {})
  for (const gap of tcp.gaps) add(1, gap, sideOf(gap.direction), 'gap', 'not captured', {detail: `${formatBytes(gap.size)} missing`, bytes: gap.size})

  if (facts.proxy) addProxyEvents(facts.proxy, add)

  const http = httpFactsOf(facts.http)
  const ws = wsFactsOf(facts.ws)
  // HTTP and WebSocket events stand for the application data records of their frame (the first one drawn there).
  const appEvents: AppEvents = new Map()
  const appEvent = (ref: FrameRef, from: Side, kind: TimelineEventKind, label: string, extra: Partial<TimelineEvent> = {}) => {
    const event = add(2, ref, from, kind, label, extra)
    const key = `${ref.frame}:${from}`
    if (!appEvents.has(key)) appEvents.set(key, event)
  }
  if (http?.request) appEvent(http.request, 'client', 'http-request', `${http.request.method} ${http.request.path}`, {detail: http.request.httpVersion})
  if (http?.response) {
    const accept = http.response.acceptValid === undefined ? '' : http.response.acceptValid ? ', Sec-WebSocket-Accept ✓' : ', Sec-WebSocket-Accept ✗'
    appEvent(http.response, 'server', 'http-response', `${http.response.status} ${http.response.reason}`.trim(), {detail: `HTTP response${accept}`})
  }
  if (ws) {
    for (const ping of ws.pings) {
      appEvent(ping, ping.from, 'ws-ping', 'ping', ping.pong ? {} : {detail: 'unanswered'})
      if (ping.pong) appEvent(ping.pong, otherSide(ping.from), 'ws-pong', 'pong', {detail: `RTT ${formatMs(ping.pong.rttMs)}`})
    }
    for (const close of [ws.close.client, ws.close.server]) {
      if (!close) continue
      const from = close === ws.close.client ? 'client' : 'server'
      appEvent(close, from, 'ws-close', 'close', {detail: close.code === undefined ? 'no code' : `${close.code}${close.reason ? ` ${close.reason}` : ''}`})
    }
  }

  if (facts.tls) addTlsEvents(facts.tls, derivedOf(facts).tls13, origin, add, appEvents)
  else if (!facts.proxy) addPlainData(facts, add, appEvents)

  for (const rst of tcp.rst) {
    add(3, rst, rst.from, 'rst', 'RST', tcp.rstToSyn?.frame === rst.frame ? {detail: 'refused'} : {})
  }
  for (const fin of tcp.fin) add(3, fin, fin.from, 'fin', 'FIN')

  const order = drafts.map((d, i) => ({...d, i}))
  order.sort((a, b) => a.event.frame - b.event.frame || a.rank - b.rank || a.i - b.i)
  const events = order.map((d) => d.event)
  markFailingSteps(events, conn.checks)
  return collapseRoutine(events, options.maxRoutine ?? DEFAULT_MAX_ROUTINE)
}

type Add = (rank: number, ref: FrameRef, from: Side | 'both', kind: TimelineEventKind, label: string, extra?: Partial<TimelineEvent>) => TimelineEvent

/** The first HTTP or WebSocket event drawn at a frame, by `frame:side`. */
type AppEvents = Map<string, TimelineEvent>

const PROXY_NAMES: Record<ProxyFacts['type'], string> = {'http-connect': 'CONNECT', socks4: 'SOCKS4', socks4a: 'SOCKS4a', socks5: 'SOCKS5'}

/**
 * The proxy's preamble (RFC 9110 §9.3.6, RFC 1928 §4 and §6): `CONNECT console.test:8084` and
 * `407 Proxy Authentication Required`; `SOCKS5 CONNECT console.test:8084` and `reply: succeeded`.
 * Only scheme and method names, never credentials (the facts hold none).
 */
function addProxyEvents(proxy: ProxyFacts, add: Add): void {
  const http = proxy.type === 'http-connect'
  const name = PROXY_NAMES[proxy.type]
  const target = proxy.target && (proxy.target.host.includes(':') ? `[${proxy.target.host}]:${proxy.target.port}` : `${proxy.target.host}:${proxy.target.port}`)
  const auth = proxy.authentication
  const request: string[] = []
  const response: string[] = []
  if (http) {
    if (auth?.scheme !== undefined) request.push(`Proxy-Authorization ${auth.scheme}`)
    if (auth && auth.offered.length > 0) response.push(`Proxy-Authenticate ${auth.offered.join(', ')}`)
  } else if (auth) {
    if (auth.offered.length > 0) request.push(`methods ${auth.offered.join(', ')}`)
    if (auth.scheme !== undefined) response.push(`method ${auth.scheme}${auth.accepted === false ? ' rejected' : ''}`)
    else if (auth.accepted === false) response.push('no acceptable method')
  }
  if (!target) request.push('request not seen whole')
  const label = http ? (target ? `CONNECT ${target}` : 'CONNECT') : `${name} ${proxy.command ?? 'CONNECT'}${target ? ` ${target}` : ''}`
  add(1, proxy.request, 'client', 'proxy-request', label, request.length > 0 ? {detail: request.join(', ')} : {})
  const answer = proxy.response
  if (!answer) return
  if (!http) response.unshift(`${proxy.type === 'socks5' ? 'REP' : 'CD'} ${answer.status}`)
  if (proxy.tunnelOpened) response.push('tunnel open')
  const answerLabel = http ? `${answer.status} ${answer.reason}`.trim() : `reply: ${answer.reason}`
  add(1, answer, 'server', 'proxy-response', answerLabel, response.length > 0 ? {detail: response.join(', ')} : {})
}

/** `hs`: the TLS 1.3 flights analysis derived from the records (analysis/derive.ts). */
function addTlsEvents(tls: TlsFacts, hs: Tls13Handshake | undefined, origin: number, add: Add, appEvents: AppEvents): void {
  const rank = 1
  if (tls.notTls) {
    const {direction, frame, ts = origin, firstBytes} = tls.notTls
    add(rank, {frame, ts}, sideOf(direction), 'not-tls', 'not TLS', {detail: `starts ${firstBytesText(firstBytes)}`})
  }
  const decryptedDirections = new Set(tls.handshakeMessages.filter((m) => m.decrypted).map((m) => m.direction))
  // With keys a direction's decrypted messages replace its encrypted flight.
  const flights = new Map([...(hs ? tls13Flights(hs) : [])].filter(([first]) => !decryptedDirections.has(first.direction)))
  const inFlight = new Set<TlsRecordRef>([...flights.values()].flat())
  const pendingMessages = [...tls.handshakeMessages]
  const pendingAlerts = [...tls.alerts]
  const finishedFrame: Partial<Record<Direction, number>> = {}
  for (const m of tls.handshakeMessages) if (m.decrypted && m.type === HS_FINISHED) finishedFrame[m.direction] ??= m.frame
  // Decrypted records go to the event read from their frame; one read before its message was
  // complete (the message ends in a later frame) waits for the next decrypted event of its side,
  // which always comes: such a record is at or before its side's decrypted Finished.
  const readInto: Partial<Record<Direction, TimelineEvent>> = {}
  const waiting: Record<Direction, {records: number; bytes: number}> = {c2s: {records: 0, bytes: 0}, s2c: {records: 0, bytes: 0}}
  const decryptedEvent = (direction: Direction, event: TimelineEvent) => {
    readInto[direction] = event
    if (waiting[direction].records === 0) return
    count(event, waiting[direction].records, waiting[direction].bytes)
    waiting[direction] = {records: 0, bytes: 0}
  }
  const readRecord = (record: TlsRecordRef, event: TimelineEvent | undefined) => {
    if (event) count(event, 1, record.length)
    else {
      waiting[record.direction].records++
      waiting[record.direction].bytes += record.length
    }
  }
  const ccsSeen: Partial<Record<Direction, boolean>> = {}
  let data: {first: TlsRecordRef; records: number; bytes: number} | undefined
  const flushData = () => {
    if (!data) return
    add(rank, data.first, sideOf(data.first.direction), 'application-data', 'application data', {
      detail: data.records === 1 ? formatBytes(data.bytes) : `${data.records} records, ${formatBytes(data.bytes)}`,
      records: data.records,
      bytes: data.bytes,
    })
    data = undefined
  }
  /** Draws the pending messages up to a frame; the first one drawn, if any. */
  const emitMessages = (direction: Direction, upToFrame: number, decrypted: boolean): TimelineEvent | undefined => {
    let first: TimelineEvent | undefined
    while (true) {
      const index = pendingMessages.findIndex((m) => m.direction === direction && m.decrypted === decrypted && m.frame <= upToFrame)
      if (index < 0) return first
      flushData()
      const event = addMessage(tls, pendingMessages.splice(index, 1)[0], add)
      if (decrypted) decryptedEvent(direction, event)
      first ??= event
    }
  }
  const emitAlerts = (direction: Direction, frame: number): TimelineEvent | undefined => {
    const side = sideOf(direction)
    let first: TimelineEvent | undefined
    for (let index; (index = pendingAlerts.findIndex((a) => a.from === side && a.frame <= frame)) >= 0; ) {
      flushData()
      const event = addAlert(pendingAlerts.splice(index, 1)[0], add)
      if (event.decrypted) decryptedEvent(direction, event)
      first ??= event
    }
    return first
  }

  for (const record of tls.records) {
    const {direction} = record
    const side = sideOf(direction)
    switch (record.contentType) {
      case CONTENT_CHANGE_CIPHER_SPEC:
        flushData()
        ccsSeen[direction] = true
        add(rank, record, side, 'change-cipher-spec', 'ChangeCipherSpec')
        continue
      case CONTENT_HANDSHAKE:
        if (!ccsSeen[direction] || tls.version === VERSION_TLS13) {
          emitMessages(direction, record.frame, false)
          continue
        }
        // TLS 1.2 after ChangeCipherSpec: the encrypted Finished (RFC 5246 §7.4.9).
        {
          const read = emitMessages(direction, record.frame, true)
          if (read) {
            readRecord(record, read)
            continue
          }
        }
        flushData()
        add(rank, record, side, 'handshake', 'Finished', {detail: `encrypted, ${formatBytes(record.length)}`, records: 1, bytes: record.length})
        continue
      case CONTENT_ALERT:
        // A plaintext (or TLS 1.2 decrypted) alert record is its Alert event, like a plaintext message.
        if (emitAlerts(direction, record.frame)) continue
        flushData()
        add(rank, record, side, 'encrypted-alert', 'Alert', {detail: `encrypted, ${formatBytes(record.length)}`, records: 1, bytes: record.length})
        continue
      case CONTENT_APPLICATION_DATA: {
        const flight = flights.get(record)
        if (flight) {
          flushData()
          const bytes = flight.reduce((n, r) => n + r.length, 0)
          const last = flight[flight.length - 1]
          const what = direction === 's2c' ? 'server' : hs?.clientFlightKind
          add(rank, record, side, 'encrypted-flight', 'encrypted flight', {
            detail: `${flight.length} record${flight.length === 1 ? '' : 's'}, ${formatBytes(bytes)}${flightContent(what)}`,
            records: flight.length,
            bytes,
            lastFrame: last.frame,
            lastTs: last.ts,
          })
          continue
        }
        if (inFlight.has(record)) continue
        // With keys, a record in a frame that carried decrypted messages (or a decrypted alert) is one of them.
        const read = emitMessages(direction, record.frame, true) ?? emitAlerts(direction, record.frame)
        if (read) {
          readRecord(record, read)
          continue
        }
        if (finishedFrame[direction] !== undefined && record.frame <= finishedFrame[direction]!) {
          readRecord(record, readInto[direction]?.frame === record.frame ? readInto[direction] : undefined)
          continue
        }
        if (hs?.serverAlertAfterClient === record) {
          flushData()
          add(rank, record, side, 'encrypted-alert', 'encrypted record', {detail: `${formatBytes(record.length)}, an alert's size`, records: 1, bytes: record.length})
          continue
        }
        const app = appEvents.get(`${record.frame}:${side}`)
        if (app) {
          readRecord(record, app)
          continue
        }
        if (data && (data.first.direction !== direction || data.first.frame !== record.frame)) flushData()
        if (data) {
          data.records++
          data.bytes += record.length
        } else data = {first: record, records: 1, bytes: record.length}
        continue
      }
      default:
        continue
    }
  }
  flushData()
  // Facts the record list no longer reaches (it is capped): still drawn.
  for (const m of pendingMessages) {
    const event = addMessage(tls, m, add)
    if (m.decrypted) decryptedEvent(m.direction, event)
  }
  for (const alert of pendingAlerts) addAlert(alert, add)
  if (tls.recordsTruncated) addUnlistedRecords(tls, add)
}

function count(event: TimelineEvent, records: number, bytes: number): void {
  event.records = (event.records ?? 0) + records
  event.bytes = (event.bytes ?? 0) + bytes
}

function addAlert(alert: TlsAlertInfo, add: Add): TimelineEvent {
  const level = alert.level === 2 ? 'fatal' : alert.level === 1 ? 'warning' : `level ${alert.level}`
  return add(1, alert, alert.from, 'alert', 'Alert', {detail: `${level} ${alert.descriptionName} (${alert.description})`, decrypted: alert.decrypted})
}

const VERSION_TLS13 = 0x0304

/** One handshake message as an event, with what the facts know about it. */
function addMessage(tls: TlsFacts, m: HandshakeMessageRef, add: Add): TimelineEvent {
  const side = sideOf(m.direction)
  const extra: Partial<TimelineEvent> = {decrypted: m.decrypted}
  if (m.decrypted && m.type === HS_FINISHED) {
    // tls.finished: verify_data checked against the transcript (RFC 8446 §4.4.4, RFC 5246 §7.4.9).
    const finished = side === 'server' ? tls.finished?.server : tls.finished?.client
    if (finished?.frame === m.frame) extra.verified = finished.verified
  }
  if (m.type === HS_CLIENT_HELLO) {
    const hello = tls.clientHellos.find((h) => h.frame === m.frame) ?? tls.clientHellos[0]
    const parts: string[] = []
    if (hello?.sni !== undefined) parts.push(`SNI ${hello.sni}`)
    if (hello) parts.push(versionList(hello.supportedVersions?.filter((v) => !isGrease(v)) ?? [hello.legacyVersion]))
    return add(1, m, side, 'client-hello', 'ClientHello', {...extra, detail: parts.join(', ')})
  }
  if (m.type === HS_SERVER_HELLO) {
    const hrr = tls.helloRetryRequest?.frame === m.frame ? tls.helloRetryRequest : undefined
    const hello = hrr ?? (tls.serverHello?.frame === m.frame ? tls.serverHello : undefined)
    const detail = hello ? `${nameOf(VERSIONS, hello.version)}, ${nameOf(CIPHER_SUITES, hello.cipherSuite)}` : undefined
    return add(1, m, side, hrr ? 'hello-retry-request' : 'server-hello', hrr ? 'HelloRetryRequest' : 'ServerHello', {...extra, detail})
  }
  const parts: string[] = []
  if (m.type === HS_CERTIFICATE) {
    const message = [tls.serverCertificate, tls.clientCertificate].find((c) => c?.frame === m.frame && c.from === side)
    const leaf = message?.certificates[0]
    if (message) parts.push(leaf ? (leaf.commonName !== undefined ? `CN=${leaf.commonName}` : leaf.subject) : 'empty')
  }
  if (m.decrypted) parts.push('decrypted')
  return add(1, m, side, 'handshake', messageName(m.typeName), {...extra, detail: parts.length > 0 ? parts.join(', ') : undefined})
}

/**
 * TLS 1.3 flights without keys, keyed by their first record. The client's flight is cut where
 * its size says the handshake ends (a Finished alone; empty Certificate + Finished; a certificate
 * up to the Finished-sized record): what follows is application data.
 */
function tls13Flights(hs: Tls13Handshake): Map<TlsRecordRef, TlsRecordRef[]> {
  const flights = new Map<TlsRecordRef, TlsRecordRef[]>()
  if (hs.serverFlight.length > 0) flights.set(hs.serverFlight[0], hs.serverFlight)
  const client = hs.clientFlight
  let length = client.length
  if (hs.clientFlightKind === 'finished' || hs.clientFlightKind === 'alert') length = 1
  else if (hs.clientFlightKind === 'empty-certificate') length = 2
  else if (hs.clientFlightKind === 'certificate') {
    const finished = client.findIndex((r, i) => i > 0 && r.length === hs.sizes.finished)
    if (finished >= 0) length = finished + 1
  }
  if (client.length > 0) flights.set(client[0], client.slice(0, Math.min(length, client.length)))
  return flights
}

/** What a flight's size says it holds (dissect/tls/record-sizes.ts explains the sizes). */
function flightContent(kind: ClientFlightKind | 'server' | undefined): string {
  switch (kind) {
    case 'server':
      return ': EncryptedExtensions … Finished'
    case 'finished':
      return ': Finished'
    case 'empty-certificate':
      return ': empty Certificate, Finished'
    case 'certificate':
      return ': Certificate, CertificateVerify, Finished'
    case 'alert':
      return ": an alert's size"
    default:
      return ''
  }
}

/** Records past the kept list, from the per-direction totals: one line so nothing is hidden. */
function addUnlistedRecords(tls: TlsFacts, add: Add): void {
  const last = tls.records[tls.records.length - 1]
  if (!last) return
  const listed = {c2s: {records: 0, bytes: 0}, s2c: {records: 0, bytes: 0}}
  for (const r of tls.records) {
    listed[r.direction].records++
    listed[r.direction].bytes += r.length + 5
  }
  const c2s = Math.max(0, tls.totals.c2s.records - listed.c2s.records)
  const s2c = Math.max(0, tls.totals.s2c.records - listed.s2c.records)
  const c2sBytes = Math.max(0, tls.totals.c2s.bytes - listed.c2s.bytes)
  const s2cBytes = Math.max(0, tls.totals.s2c.bytes - listed.s2c.bytes)
  add(1, last, 'both', 'collapsed', `… ${c2s + s2c} more records`, {
    detail: `${formatSize(c2sBytes)} from the client, ${formatSize(s2cBytes)} from the server (not listed one by one)`,
    records: c2s + s2c,
    bytes: c2sBytes + s2cBytes,
    folded: {events: 0, records: c2s + s2c, c2sBytes, s2cBytes, pings: 0},
  })
}

/** Without TLS (refused, filtered, plain HTTP): the payload each way, one line per direction. */
function addPlainData(facts: ConnectionFacts, add: Add, appEvents: AppEvents): void {
  const tcp = facts.tcp
  if (appEvents.size > 0) return
  for (const direction of ['c2s', 's2c'] as const) {
    const bytes = tcp[direction].bytes
    if (bytes === 0) continue
    add(1, {frame: tcp.firstFrame, ts: tcp.startTs}, sideOf(direction), 'application-data', 'data', {detail: `${formatBytes(bytes)} in total (no TLS)`, bytes})
  }
}

/** Routine events (data, answered pings) that may be folded into one line. */
function isRoutine(event: TimelineEvent): boolean {
  return event.marks.length === 0 && (event.kind === 'application-data' || event.kind === 'ws-pong' || (event.kind === 'ws-ping' && event.detail === undefined))
}

function collapseRoutine(events: TimelineEvent[], maxRoutine: number): TimelineEvent[] {
  const out: TimelineEvent[] = []
  for (let i = 0; i < events.length; ) {
    let end = i
    while (end < events.length && isRoutine(events[end])) end++
    if (end - i > maxRoutine) {
      out.push(foldRun(events.slice(i, end)))
      i = end
    } else {
      out.push(events[i])
      i++
    }
  }
  return out
}

function foldRun(run: TimelineEvent[]): TimelineEvent {
  const first = run[0]
  const last = run[run.length - 1]
  const folded = {events: run.length, records: 0, c2sBytes: 0, s2cBytes: 0, pings: 0}
  for (const event of run) {
    folded.records += event.records ?? 0
    if (event.from === 'client') folded.c2sBytes += event.bytes ?? 0
    else folded.s2cBytes += event.bytes ?? 0
    if (event.kind === 'ws-ping') folded.pings++
  }
  const parts = [`${formatSize(folded.c2sBytes)} →, ${formatSize(folded.s2cBytes)} ←`]
  if (folded.pings > 0) parts.push(`${folded.pings} ping${folded.pings === 1 ? '' : 's'} answered`)
  parts.push(`over ${formatSpan(last.ts - first.ts)}`)
  return {
    kind: 'collapsed',
    from: 'both',
    frame: first.frame,
    ts: first.ts,
    ms: first.ms,
    label: `… ${folded.records > 0 ? `${folded.records} records` : `${run.length} events`}`,
    detail: parts.join(', '),
    records: folded.records,
    bytes: folded.c2sBytes + folded.s2cBytes,
    lastFrame: last.lastFrame ?? last.frame,
    lastTs: last.ts,
    folded,
    marks: [],
  }
}

/** Reads facts.http when it has the shape the timeline needs; anything else is ignored. */
export function httpFactsOf(value: unknown): TimelineHttpFacts | undefined {
  if (!isObject(value)) return undefined
  const request = isFrameRef(value.request) && typeof value.request.method === 'string' && typeof value.request.path === 'string' ? value.request : undefined
  const response = isFrameRef(value.response) && typeof value.response.status === 'number' ? value.response : undefined
  if (!request && !response) return undefined
  return {
    request: request && {frame: request.frame, ts: request.ts, method: request.method as string, path: request.path as string, httpVersion: String(request.httpVersion ?? '')},
    response: response && {
      frame: response.frame,
      ts: response.ts,
      status: response.status as number,
      reason: String(response.reason ?? ''),
      acceptValid: typeof response.acceptValid === 'boolean' ? response.acceptValid : undefined,
    },
  }
}

/** Reads facts.ws when it has the shape the timeline needs; anything else is ignored. */
export function wsFactsOf(value: unknown): TimelineWsFacts | undefined {
  if (!isObject(value) || !Array.isArray(value.pings) || !isObject(value.close)) return undefined
  const pings: TimelineWsFacts['pings'] = []
  for (const ping of value.pings) {
    if (!isFrameRef(ping) || (ping.from !== 'client' && ping.from !== 'server')) continue
    const pong = isFrameRef(ping.pong) && typeof ping.pong.rttMs === 'number' ? {frame: ping.pong.frame, ts: ping.pong.ts, rttMs: ping.pong.rttMs} : undefined
    pings.push({frame: ping.frame, ts: ping.ts, from: ping.from, pong})
  }
  const close = (c: unknown) =>
    isFrameRef(c) ? {frame: c.frame, ts: c.ts, code: typeof c.code === 'number' ? c.code : undefined, reason: typeof c.reason === 'string' ? c.reason : undefined} : undefined
  return {pings, pingCount: typeof value.pingCount === 'number' ? value.pingCount : undefined, close: {client: close(value.close.client), server: close(value.close.server)}}
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function isFrameRef(value: unknown): value is Record<string, unknown> & FrameRef {
  return isObject(value) && typeof value.frame === 'number' && typeof value.ts === 'number'
}

function sideOf(direction: Direction): Side {
  return direction === 'c2s' ? 'client' : 'server'
}

function otherSide(side: Side): Side {
  return side === 'client' ? 'server' : 'client'
}

/** The first bytes of a non-TLS stream: as text when printable (`"CONNECT console."`), else hex. */
function firstBytesText(hex: string): string {
  const bytes = Buffer.from(hex, 'hex')
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b < 0x7f) ? JSON.stringify(bytes.toString('latin1')) : hex
}

/** `client_key_exchange` → `ClientKeyExchange`; unknown types (0x00ab) stay as they are. */
function messageName(typeName: string): string {
  if (typeName.startsWith('0x')) return `handshake ${typeName}`
  return typeName
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')
}

/** `TLS 1.3/1.2/1.1` from supported_versions (GREASE removed). */
function versionList(versions: number[]): string {
  const names = versions.map((v) => nameOf(VERSIONS, v))
  return names.map((name, i) => (i > 0 && name.startsWith('TLS ') && names[0].startsWith('TLS ') ? name.slice(4) : name)).join('/')
}

function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} B`
}

/** `512 B`, `38 KB`, `1.2 MB` for folded runs. */
function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1_000_000) return `${bytes < 10_000 ? (bytes / 1000).toFixed(1) : Math.round(bytes / 1000)} KB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}

/** `850 ms`, `12.3 s`, `5.0 min`. */
function formatSpan(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 120) return `${seconds.toFixed(1)} s`
  return `${(seconds / 60).toFixed(1)} min`
}

/** `0.014`, `1018.4`, `300512`: ms since the connection's first packet, precision by size. */
export function formatEventTime(event: TimelineEvent): string {
  const {ms} = event
  return ms < 1000 ? ms.toFixed(3) : ms < 100_000 ? ms.toFixed(1) : ms.toFixed(0)
}

/**
 * The event's label as the ladders print it: a checked Finished says so, `Finished ✓
 * (verify_data checked)` or `Finished ✗` (ASCII: `ok`, `MISMATCH`).
 */
export function eventLabel(event: TimelineEvent, ascii: boolean): string {
  if (event.verified === undefined) return event.label
  if (event.verified) return `${event.label} ${ascii ? 'ok' : '✓'} (verify_data checked)`
  return `${event.label} ${ascii ? 'MISMATCH' : '✗'}`
}

/** The right-hand lane: the Console, or the proxy the Defender connected to (and through). */
export function serverLaneName(conn: ConnectionReport): string {
  const proxy = isCaptureFacts(conn.facts) ? conn.facts.proxy : undefined
  if (!proxy) return 'Console'
  return proxy.tunnelOpened ? 'Console via proxy' : 'proxy'
}

/** Word wrap to `width` columns; words longer than a line are cut. Empty text → no lines. */
export function wrapWords(s: string, width: number): string[] {
  if (s === '') return []
  const lines: string[] = []
  let line = ''
  for (let word of s.split(' ')) {
    while (word.length > width) {
      if (line !== '') lines.push(line)
      lines.push(word.slice(0, width))
      word = word.slice(width)
      line = ''
    }
    if (line === '') line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== '') lines.push(line)
  return lines
}
