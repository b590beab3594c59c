/**
 * What the WebSocket checks share: the one accessor to the HTTP upgrade and WebSocket facts, why
 * there is nothing to judge, and the upgrade's record flow inferred from encrypted record sizes
 * when no key log was given (worked out in analysis/derive.ts; DESIGN.md "What can be seen on the
 * wire"). Pure: facts in, facts out.
 */
import {DERIVED, type ConnectionFacts, type UpgradeFlow} from '../model/facts.js'
import type {HttpUpgradeFacts} from '../protocols/http/types.js'
import type {TlsRecordRef} from '../protocols/tls/types.js'
import type {WebSocketFacts} from '../protocols/websocket/types.js'
import {isTls13, tls13HandshakeOf, tlsFactsOf} from './tls-common.js'

/** The HTTP upgrade and WebSocket facts of a connection (the one place the ws checks reach into ConnectionFacts). */
export function webFactsOf(facts: ConnectionFacts): {http?: HttpUpgradeFacts; ws?: WebSocketFacts} {
  return {http: facts.http, ws: facts.ws}
}

/**
 * Why the TLS layer gives the WebSocket checks nothing to read, or undefined when the handshake
 * completed (or the connection is not TLS at all). A handshake that did not complete is tls.*'s
 * verdict, not ours.
 */
export function tlsBlocker(facts: ConnectionFacts): string | undefined {
  const tls = tlsFactsOf(facts)
  if (!tls || tls.notTls) return undefined
  if (!tls.serverHello) return 'no TLS session was established (see tls.server-hello)'
  const fatal = tls.alerts.find((a) => a.level === 2)
  if (fatal) return `the TLS handshake failed: the ${fatal.from} sent fatal alert ${fatal.descriptionName} (frame ${fatal.frame}, see tls.alerts)`
  const {client, server} = tls.finished ?? {}
  if ((client && !client.verified) || (server && !server.verified)) return 'a Finished message does not verify (see tls.finished)'
  if (client && server) return undefined
  if (isTls13(tls)) {
    const flights = tls13HandshakeOf(facts)
    // The server goes on after the client's final flight only if it accepted it (RFC 8446 §4.4.4).
    if (!flights || flights.clientFlight.length === 0 || flights.clientFlightKind === 'alert' || flights.serverAfterClient.length === 0) {
      return 'the TLS handshake did not complete (see tls.finished)'
    }
    return undefined
  }
  if (!tls.changeCipherSpec.c2s || !tls.changeCipherSpec.s2c) return 'the TLS handshake did not complete (see tls.finished)'
  return undefined
}

/**
 * The record flow of a completed TLS 1.3 handshake after the client's Finished (analysis/derive.ts),
 * or undefined when the client sent nothing after it (or the connection is not TLS 1.3 with a
 * completed handshake).
 */
export function upgradeFlowOf(facts: ConnectionFacts): UpgradeFlow | undefined {
  return facts[DERIVED].upgradeFlow
}

export function frameSpan(records: TlsRecordRef[]): string {
  const first = records[0].frame
  const last = records[records.length - 1].frame
  return first === last ? `frame ${first}` : `frames ${first}-${last}`
}
