/**
 * TLS's share of the ladder, from one walk over the record list (tls.records, in stream order),
 * which puts the messages a frame carries in the order they were sent: ServerHello, then
 * ChangeCipherSpec, then the encrypted flight. Without keys a TLS 1.3 flight is one event (its
 * records and bytes, and what its size says, see tls-flights.ts); with keys the decrypted
 * messages replace it. Every protected record is drawn in exactly one event, with its bytes: the
 * encrypted event, or the decrypted message, alert, HTTP or WebSocket event read from its frame,
 * so a collapsed run counts the bytes of the pings it folds.
 */
import {derivedOf} from '../../analysis/derive.js'
import {isGrease} from '../../protocols/tls/grease.js'
import {CIPHER_SUITES} from '../../protocols/tls/iana/cipher-suites.js'
import {
  CONTENT_ALERT,
  CONTENT_APPLICATION_DATA,
  CONTENT_CHANGE_CIPHER_SPEC,
  CONTENT_HANDSHAKE,
} from '../../protocols/tls/iana/content-types.js'
import {HS_CERTIFICATE, HS_CLIENT_HELLO, HS_FINISHED, HS_SERVER_HELLO} from '../../protocols/tls/iana/handshake-types.js'
import {nameOf} from '../../protocols/tls/iana/table.js'
import {VERSIONS} from '../../protocols/tls/iana/versions.js'
import type {HandshakeMessageRef, TlsAlertInfo, TlsFacts, TlsRecordRef} from '../../protocols/tls/types.js'
import type {Tls13Handshake} from '../../model/facts.js'
import type {Direction} from '../../stream/types.js'
import type {Add, AppEvents, LadderPart, TimelineEvent} from './events.js'
import {firstBytesText, formatBytes, formatSize, messageName, sideOf, versionList} from './format.js'
import {flightContent, tls13Flights} from './tls-flights.js'

export const tlsLadder: LadderPart = {
  events({facts, origin, add, appEvents}) {
    // The flights are derived at most once per connection (analysis/derive.ts); a report read
    // back from JSON (or cloned) has none attached, so derivedOf works them out again.
    if (facts.tls) addTlsEvents(facts.tls, derivedOf(facts).tls13, origin, add, appEvents)
  },
}

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

