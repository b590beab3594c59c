/**
 * tls.finished: both Finished messages were exchanged and accepted. Observed when decrypted (each
 * verify_data checked against the transcript, RFC 8446 §4.4.4 / RFC 5246 §7.4.9, and no fatal
 * alert after them); otherwise inferred — TLS 1.2 from both ChangeCipherSpec messages and the application data after
 * them, TLS 1.3 from the encrypted flights (a client sends its Finished only after verifying the
 * server's, RFC 8446 §4.4.4; a server sends NewSessionTicket/data only after verifying the client's).
 */
import type {ConnectionFacts} from '../model/facts.js'
import {CONTENT_APPLICATION_DATA} from '../protocols/tls/iana/content-types.js'
import type {TlsFacts, VerifiedFinished} from '../protocols/tls/types.js'
import type {CheckResult} from '../model/checks.js'
import {describeEnding, formatBytes, isTls13, skip, tls13HandshakeOf, tlsFactsOf} from './tls-common.js'

const ID = 'tls.finished'
const FATAL_ALERT = 2

export function checkTlsFinished(facts: ConnectionFacts): CheckResult {
  const tls = tlsFactsOf(facts)
  if (!tls?.serverHello) return skip(ID, 'no ServerHello, so no handshake to finish (see tls.server-hello)')
  const {client, server} = tls.finished ?? {}
  if (client && server) return observedFinished(tls, server, client)
  const unverified = [server, client].find((f) => f && !f.verified)
  if (unverified) {
    const side = unverified === server ? 'server' : 'client'
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `the ${side}'s Finished (frame ${unverified.frame}, decrypted) does not verify: its verify_data does not match the handshake transcript`,
      evidence: {frames: [unverified.frame], values: {side}},
      hint: 'the handshake was tampered with or the key log does not belong to this session: check --keylog',
    }
  }
  return isTls13(tls) ? inferTls13(facts, tls) : inferTls12(facts, tls)
}

/** Both Finished messages decrypted: each verified, and nothing fatal came after them. */
function observedFinished(tls: TlsFacts, server: VerifiedFinished, client: VerifiedFinished): CheckResult {
  const frames = [server.frame, client.frame].sort((a, b) => a - b)
  const values = {serverVerified: server.verified, clientVerified: client.verified}
  const failed = [server.verified ? undefined : 'server', client.verified ? undefined : 'client'].filter((s): s is string => s !== undefined)
  if (failed.length > 0) {
    const which = failed.length === 2 ? 'neither the server\'s nor the client\'s Finished verifies' : `the ${failed[0]}'s Finished (frame ${failed[0] === 'server' ? server.frame : client.frame}) does not verify`
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `${which}: verify_data does not match the handshake transcript (decrypted)`,
      evidence: {frames, values},
      hint: 'the handshake was tampered with or the key log does not belong to this session: check --keylog',
    }
  }
  const last = frames[frames.length - 1]
  const abort = tls.alerts.find((a) => a.level === FATAL_ALERT && a.frame >= last)
  if (abort) {
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `both Finished messages verified (server frame ${server.frame}, client frame ${client.frame}; verify_data checked), but the ${abort.from} then aborted with fatal alert ${abort.descriptionName} (${abort.description}, frame ${abort.frame})`,
      evidence: {frames: [...frames, abort.frame], values},
      hint: `the ${abort.from} did not accept the handshake: see tls.alerts${abort.from === 'server' ? ' and tls.client-certificate' : ' and tls.certificate'}`,
    }
  }
  return {
    id: ID,
    status: 'pass',
    confidence: 'observed',
    summary: `both Finished messages exchanged and verified (server frame ${server.frame}, client frame ${client.frame}; verify_data checked)`,
    evidence: {frames, values},
  }
}

function inferTls13(facts: ConnectionFacts, tls: TlsFacts): CheckResult {
  const flights = tls13HandshakeOf(facts)!
  const first = flights.clientFlight[0]
  const values = {serverFlightBytes: flights.serverFlightBytes, clientFlightBytes: flights.clientFlightBytes, clientFlightKind: flights.clientFlightKind, serverRecordsAfter: flights.serverAfterClient.length}
  if (!first || flights.clientFlightKind === 'alert') {
    const after = flights.serverFlight[flights.serverFlight.length - 1] ?? tls.serverHello!
    // Some clients (OpenSSL) send their handshake-ending alert in plaintext even in TLS 1.3: then
    // the abort was read, not inferred.
    const readableAbort = tls.alerts.find((a) => a.from === 'client' && a.level === FATAL_ALERT && a.frame >= after.frame)
    if (readableAbort) {
      return {
        id: ID,
        status: 'fail',
        confidence: 'observed',
        summary: `the client aborted the handshake with fatal alert ${readableAbort.descriptionName} (${readableAbort.description}, frame ${readableAbort.frame}) instead of sending its Finished`,
        evidence: {frames: [after.frame, readableAbort.frame], values},
        hint: 'the client did not accept the server\'s flight (its certificate): see tls.certificate and tls.alerts',
      }
    }
    const ended = describeEnding(facts, after)
    if (!first && ended.frames.length === 0) {
      return {id: ID, status: 'warn', confidence: 'inferred', summary: `inferred: the capture ended before the client sent its Finished`, evidence: {frames: [after.frame], values}, hint: 'capture longer'}
    }
    return {
      id: ID,
      status: 'fail',
      confidence: 'inferred',
      summary: `inferred: the client never sent its Finished after the server's encrypted flight: ${first ? `it sent an alert-sized record (frame ${first.frame}) instead` : ended.text}`,
      evidence: {frames: [after.frame, ...(first ? [first.frame] : ended.frames)], values},
      hint: 'the client did not accept the server\'s flight (its certificate or Finished): see tls.certificate',
    }
  }
  if (flights.serverAfterClient.length > 0) {
    const next = flights.serverAfterClient[0]
    const clientData = flights.clientSentData ? ' and the client sent application data' : ''
    return {
      id: ID,
      status: 'pass',
      confidence: 'inferred',
      summary:
        `inferred: the client sent its final flight (frame ${first.frame}) after the server's encrypted flight, so it accepted the server's Finished; ` +
        `the server then sent ${flights.serverAfterClient.length} more record(s) (${formatBytes(flights.serverAfterClient.reduce((n, r) => n + r.length, 0))}, from frame ${next.frame})${clientData}, so it accepted the client's Finished`,
      evidence: {frames: [first.frame, next.frame], values},
    }
  }
  const ended = describeEnding(facts, flights.clientFlight[flights.clientFlight.length - 1], 'server')
  if (ended.frames.length === 0 && !flights.serverAlertAfterClient) {
    return {id: ID, status: 'warn', confidence: 'inferred', summary: `inferred: the capture ended before the server answered the client's final flight (frame ${first.frame})`, evidence: {frames: [first.frame], values}, hint: 'capture longer'}
  }
  const alert = flights.serverAlertAfterClient
  const carriedCertificate = flights.clientFlightKind === 'certificate' || flights.clientFlightKind === 'empty-certificate'
  return {
    id: ID,
    status: 'fail',
    confidence: 'inferred',
    summary:
      `inferred: the server rejected the client's final flight (frame ${first.frame}): ${alert ? `it answered with an alert-sized ${alert.length}-byte record (frame ${alert.frame}) and ` : ''}` +
      `${ended.text.replace(/^the server sent /, 'sent ')}, never any data` +
      (carriedCertificate ? ' (likely an encrypted alert: missing or untrusted client certificate)' : ''),
    evidence: {frames: [first.frame, ...(alert ? [alert.frame] : []), ...ended.frames], values},
    hint: carriedCertificate ? 'see tls.client-certificate: the Console did not accept the Defender\'s certificate' : 'the server aborted after the client\'s Finished; capture with --keylog to read the alert',
  }
}

function inferTls12(facts: ConnectionFacts, tls: TlsFacts): CheckResult {
  const {c2s, s2c} = tls.changeCipherSpec
  if (!c2s || !s2c) {
    const missing = !c2s ? 'client' : 'server'
    const after = (c2s ?? s2c ?? tls.serverHello)!
    const ended = describeEnding(facts, after)
    return {
      id: ID,
      status: ended.frames.length === 0 ? 'warn' : 'fail',
      confidence: 'observed',
      summary: `the ${missing} never sent ChangeCipherSpec and Finished: ${ended.text}`,
      evidence: {frames: [after.frame, ...ended.frames], values: {clientCcs: c2s?.frame, serverCcs: s2c?.frame}},
      hint: ended.frames.length === 0 ? 'the capture ended mid-handshake: capture longer' : `the ${missing === 'client' ? 'client' : 'server'} did not accept the other side's flight (see tls.alerts)`,
    }
  }
  const later = Math.max(c2s.frame, s2c.frame)
  const data = tls.records.find((r) => r.contentType === CONTENT_APPLICATION_DATA && r.frame > later)
  if (data) {
    return {
      id: ID,
      status: 'pass',
      confidence: 'inferred',
      summary: `inferred: both sides sent ChangeCipherSpec and their encrypted Finished (frames ${c2s.frame}, ${s2c.frame}) and application data followed (frame ${data.frame}), so both Finished messages were accepted`,
      evidence: {frames: [c2s.frame, s2c.frame, data.frame]},
    }
  }
  return {
    id: ID,
    status: 'warn',
    confidence: 'inferred',
    summary: `both sides sent ChangeCipherSpec and their encrypted Finished (frames ${c2s.frame}, ${s2c.frame}), but no application data followed to confirm they were accepted`,
    evidence: {frames: [c2s.frame, s2c.frame]},
    hint: 'capture longer, or use --keylog to verify the Finished messages',
  }
}
