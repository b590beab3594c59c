/**
 * What the WebSocket checks share: the one accessor to the HTTP upgrade and WebSocket facts, why
 * there is nothing to judge, and the TLS 1.3 inference from encrypted record sizes when no key
 * log was given (DESIGN.md "What can be seen on the wire"). Pure: facts in, facts out.
 */
import type {ConnectionFacts} from '../analysis/types.js'
import type {HttpUpgradeFacts} from '../dissect/http/types.js'
import {CONTENT_APPLICATION_DATA} from '../dissect/tls/iana/content-types.js'
import type {TlsFacts, TlsRecordRef} from '../dissect/tls/types.js'
import type {WebSocketFacts} from '../dissect/websocket/types.js'
import type {TcpFlagEvent} from '../stream/types.js'
import {isTls13, tls13Handshake, tlsFactsOf} from './tls-common.js'

/** The HTTP upgrade and WebSocket facts of a connection (the one place the ws checks reach into ConnectionFacts). */
export function webFactsOf(facts: ConnectionFacts): {http?: HttpUpgradeFacts; ws?: WebSocketFacts} {
  return {http: facts.http, ws: facts.ws}
}

/**
 * Why the TLS layer gives the WebSocket checks nothing to read, or undefined when the handshake
 * completed (or the connection is not TLS at all). A handshake that did not complete is tls.*'s
 * verdict, not ours.
 */
export function tlsBlocker(tls: TlsFacts | undefined): string | undefined {
  if (!tls || tls.notTls) return undefined
  if (!tls.serverHello) return 'no TLS session was established (see tls.server-hello)'
  const fatal = tls.alerts.find((a) => a.level === 2)
  if (fatal) return `the TLS handshake failed: the ${fatal.from} sent fatal alert ${fatal.descriptionName} (frame ${fatal.frame}, see tls.alerts)`
  const {client, server} = tls.finished ?? {}
  if ((client && !client.verified) || (server && !server.verified)) return 'a Finished message does not verify (see tls.finished)'
  if (client && server) return undefined
  if (isTls13(tls)) {
    const flights = tls13Handshake(tls)
    // The server goes on after the client's final flight only if it accepted it (RFC 8446 §4.4.4).
    if (!flights || flights.clientFlight.length === 0 || flights.clientFlightKind === 'alert' || flights.serverAfterClient.length === 0) {
      return 'the TLS handshake did not complete (see tls.finished)'
    }
    return undefined
  }
  if (!tls.changeCipherSpec.c2s || !tls.changeCipherSpec.s2c) return 'the TLS handshake did not complete (see tls.finished)'
  return undefined
}

/*
 * TLS 1.3 without keys (RFC 8446 §5.2): a protected record is the inner plaintext + 1 content-type
 * byte + a 16-byte AEAD tag (8 for CCM_8), so sizes tell what a record can be.
 *
 * The upgrade request (RFC 6455 §4.1) needs at least: "GET / HTTP/1.1" (16 with CRLF), Host (>= 9),
 * "Upgrade: websocket" (20), "Connection: Upgrade" (21), Sec-WebSocket-Key with its 24-character
 * nonce (45), "Sec-WebSocket-Version: 13" (27) and the empty line (2): 140 bytes, so a record of at
 * least 140 + 17 = 157 bytes. Measured in fixtures/wss: node `ws` 182, Python websockets 10.4 223.
 * The upper bound is generous (cookies, authorization headers, a long path): past it the client's
 * first record is more likely bulk data of another protocol than an upgrade request.
 *
 * The answer cannot be judged by size: the server's NewSessionTicket records (1,146 bytes each
 * from node with a client certificate in the ticket) may come before or after it (fixtures/wss:
 * node's client coalesces its Finished with the request and the tickets precede the answer; the
 * Python client sends the request alone and the tickets follow it). A 101 is at least 129 bytes
 * ("HTTP/1.1 101 Switching Protocols", Upgrade, Connection, a 28-character Sec-WebSocket-Accept),
 * a 146-byte record, which is what node's ws sent; its 403 was a 132-byte record. What tells them
 * apart is what follows: after a 101 both sides go on exchanging frames (the smallest, a client
 * frame with an empty payload, is a 6 + 17 = 23-byte record); after a refusal the server closes
 * (close_notify = 2 + 17 = 19 bytes, then FIN) and the client sends nothing but its own close.
 * Records of alert size are not counted as data: a 2-byte server frame (an empty ping or close)
 * has that size too, which only makes the inference more conservative.
 */
const REQUEST_RECORD_MIN = 157
const REQUEST_RECORD_MAX = 16_384 + 17

export interface UpgradeFlow {
  /** The client's first non-alert record after its Finished. */
  request: TlsRecordRef
  requestLooksLikeUpgrade: boolean
  /** Non-alert server records after the request, before the client's next non-alert record. */
  answer: TlsRecordRef[]
  /** Non-alert records after the answer. */
  clientAfter: TlsRecordRef[]
  serverAfter: TlsRecordRef[]
  /** The first FIN / RST of each side after the request. */
  fin: {client?: TcpFlagEvent; server?: TcpFlagEvent}
  rst?: TcpFlagEvent
  /** The record list stopped at its cap before the connection ended. */
  recordsTruncated: boolean
}

export const REQUEST_RECORD_RANGE = `${REQUEST_RECORD_MIN}-${REQUEST_RECORD_MAX}`

/**
 * The record flow of a completed TLS 1.3 handshake after the client's Finished, or undefined when
 * the client sent nothing after it (or the connection is not TLS 1.3 with a completed handshake).
 */
export function upgradeFlow(facts: ConnectionFacts): UpgradeFlow | undefined {
  // ws.upgrade and ws.session both read it, one after the other: worked out once per connection
  // (the last one remembered, as tls13Handshake() does).
  if (facts !== lastFlowOf) {
    const tls = tlsFactsOf(facts)
    lastFlow = tls === undefined ? undefined : readUpgradeFlow(facts, tls)
    lastFlowOf = facts
  }
  return lastFlow
}

let lastFlowOf: ConnectionFacts | undefined
let lastFlow: UpgradeFlow | undefined

function readUpgradeFlow(facts: ConnectionFacts, tls: TlsFacts): UpgradeFlow | undefined {
  const flights = tls13Handshake(tls)
  if (!flights) return undefined
  const alert = flights.sizes.alert
  const finishedIndex = flights.clientFlight.findIndex((r) => r.length === flights.sizes.finished)
  if (finishedIndex < 0) return undefined
  // Positions in capture order: several records share a frame, so frames alone cannot order them.
  const start = tls.records.indexOf(flights.clientFlight[finishedIndex]) + 1
  const after: TlsRecordRef[] = []
  for (let i = start; i < tls.records.length; i++) {
    const r = tls.records[i]
    if (r.contentType === CONTENT_APPLICATION_DATA && r.length !== alert) after.push(r)
  }
  const requestIndex = after.findIndex((r) => r.direction === 'c2s')
  if (requestIndex < 0) return undefined
  const request = after[requestIndex]
  const rest = after.slice(requestIndex + 1)
  const nextClient = rest.findIndex((r) => r.direction === 'c2s')
  const answerEnd = nextClient < 0 ? rest.length : nextClient
  const answer = rest.slice(0, answerEnd).filter((r) => r.direction === 's2c')
  // Everything after the answer's last record (client records before it belong to no one: there are none).
  const lastAnswer = answer.length === 0 ? -1 : rest.lastIndexOf(answer[answer.length - 1])
  const later = lastAnswer < 0 ? [] : rest.slice(lastAnswer + 1)
  const flagAfter = (events: TcpFlagEvent[], side: 'client' | 'server') => events.find((e) => e.from === side && e.frame >= request.frame)
  return {
    request,
    requestLooksLikeUpgrade: request.length >= REQUEST_RECORD_MIN && request.length <= REQUEST_RECORD_MAX,
    answer,
    clientAfter: later.filter((r) => r.direction === 'c2s'),
    serverAfter: later.filter((r) => r.direction === 's2c'),
    fin: {client: flagAfter(facts.tcp.fin, 'client'), server: flagAfter(facts.tcp.fin, 'server')},
    rst: facts.tcp.rst.find((e) => e.frame >= request.frame),
    recordsTruncated: tls.recordsTruncated,
  }
}

export function recordBytes(records: TlsRecordRef[]): number {
  let total = 0
  for (const record of records) total += record.length
  return total
}

export function frameSpan(records: TlsRecordRef[]): string {
  const first = records[0].frame
  const last = records[records.length - 1].frame
  return first === last ? `frame ${first}` : `frames ${first}-${last}`
}
