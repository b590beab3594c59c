/**
 * tls.certificate: the server certificate was delivered and is acceptable — the name (--console),
 * validity at the capture time, the chain to --ca, the pin. Observed when the Certificate message
 * was read (TLS 1.2, or TLS 1.3 with keys): the verdict comes from analysis/cert-policy. TLS 1.3
 * without keys: inferred from whether the client continued after the server's encrypted flight.
 */
import type {CertificateVerdict, ConnectionFacts} from '../model/facts.js'
import type {CertificateInfo, TlsFacts} from '../protocols/tls/types.js'
import {HS_CERTIFICATE} from '../protocols/tls/iana/handshake-types.js'
import type {CheckResult} from '../model/checks.js'
import {formatSpan} from '../model/format.js'
import type {Policy} from '../model/policy.js'
import {describeEnding, formatBytes, isTls13, noTlsReason, serverCertificateVerdictOf, skip, tls13HandshakeOf, tlsFactsOf} from './tls-common.js'

const ID = 'tls.certificate'

/** Why a valid certificate reads as not yet valid or expired (issue 18): the times compared come from clocks. */
export const WRONG_CLOCK = 'a wrong clock on either side is one cause (the Defender\'s or the Console\'s; the capture time is the capturing host\'s clock)'

/** "not yet valid for another 2 h 13 min at capture time": by how much, from the capture time (ISO) to notBefore. */
export function notYetValidText(notBefore: string, at: string): string {
  return `not yet valid for another ${formatSpan(Date.parse(notBefore) - Date.parse(at))} at capture time`
}

/** "expired 3 days 4 h before capture time". */
export function expiredText(notAfter: string, at: string): string {
  return `expired ${formatSpan(Date.parse(at) - Date.parse(notAfter))} before capture time`
}
const EXPIRY_WARNING_DAYS = 30
/** pre_shared_key (RFC 8446 §4.2.11) in ServerHello: a resumed session, no certificate is sent. */
const EXT_PRE_SHARED_KEY = 41

export function checkTlsCertificate(facts: ConnectionFacts, policy: Policy): CheckResult {
  const tls = tlsFactsOf(facts)
  if (!tls?.serverHello) return skip(ID, tls ? 'no ServerHello (see tls.server-hello)' : noTlsReason(facts))
  const message = tls.serverCertificate
  if (message) {
    const leaf = message.certificates[0]
    if (!leaf) {
      return {id: ID, status: 'fail', confidence: 'observed', summary: `the server sent an empty Certificate message (frame ${message.frame})`, evidence: {frames: [message.frame]}, hint: 'the server has no certificate configured for this name'}
    }
    const result = judgeVerdict(leaf, message.frame, message.certificates.length, serverCertificateVerdictOf(facts), policy)
    if (message.decrypted) result.summary += ' [decrypted]'
    return result
  }
  const oversized = tls.oversizedHandshake
  if (oversized?.direction === 's2c') {
    // The reader stopped at a message over its limit: the certificate was sent, and not read.
    const what = oversized.type === HS_CERTIFICATE ? 'Certificate message' : `${oversized.typeName} message before any Certificate`
    return {
      id: ID,
      status: 'warn',
      confidence: 'observed',
      summary: `the server's ${what} of ${oversized.length} bytes exceeds the ${oversized.limit}-byte limit (frame ${oversized.frame}): not read, so the certificate was not evaluated`,
      evidence: {frames: [oversized.frame], values: {length: oversized.length, limit: oversized.limit, type: oversized.typeName}},
      hint: 'a certificate chain this large is unusual for a Console: check what the server sends (openssl s_client -showcerts)',
    }
  }
  if (isTls13(tls)) return inferTls13(facts, tls, policy)
  if (tls.changeCipherSpec.s2c) {
    // TLS 1.2 abbreviated handshake (RFC 5246 §7.3): ServerHello then ChangeCipherSpec, no Certificate.
    return skip(ID, 'resumed TLS 1.2 session: the server sends no certificate on resumption')
  }
  const ended = describeEnding(facts, tls.serverHello)
  return {
    id: ID,
    status: 'fail',
    confidence: 'observed',
    summary: `the server sent no Certificate after its ServerHello (frame ${tls.serverHello.frame}): ${ended.text}`,
    evidence: {frames: [tls.serverHello.frame, ...ended.frames]},
    hint: 'the handshake stopped before the server delivered its certificate (see tls.alerts)',
  }
}

function judgeVerdict(leaf: CertificateInfo, frame: number, chainLength: number, verdict: CertificateVerdict | undefined, policy: Policy): CheckResult {
  const values: Record<string, unknown> = {subject: leaf.subject, issuer: leaf.issuer, sans: leaf.sans, notBefore: leaf.notBefore, notAfter: leaf.notAfter, sha256: leaf.sha256, chainLength}
  const parseError = leaf.parseError ?? verdict?.parseError
  if (parseError) {
    return {id: ID, status: 'fail', confidence: 'observed', summary: `the server certificate could not be parsed: ${parseError}`, evidence: {frames: [frame], values}, hint: 'the server sent a corrupt certificate'}
  }
  const who = leaf.commonName ?? leaf.subject
  if (!verdict) {
    // Nothing judged the certificate (not even its validity): delivered, but not verified.
    return {id: ID, status: 'warn', confidence: 'observed', summary: `server certificate "${who}" issued by "${leaf.issuer}" was delivered but could not be evaluated`, evidence: {frames: [frame], values}, hint: 'the certificate could not be evaluated: see the connection\'s issues'}
  }
  values.verdict = verdict
  const failures: string[] = []
  const hints: string[] = []
  const notes: string[] = []
  if (verdict.nameMatches === false) {
    failures.push(`it does not name ${verdict.expectedName} (it names ${verdict.presentedNames.join(', ') || 'nothing usable'})`)
    hints.push(`connect with a name the certificate carries, or reissue the Console certificate with a subjectAltName for ${verdict.expectedName}`)
  } else if (verdict.nameMatches) notes.push(`names ${verdict.expectedName} (${verdict.matchedName})`)
  if (verdict.captureTimeOutOfRange) {
    notes.push('its validity was not judged: the capture time is outside years 0000-9999 (a corrupt timestamp, see the issue capture.time-out-of-range)')
  } else if (verdict.notYetValid) {
    failures.push(`${notYetValidText(leaf.notBefore, verdict.at)} (notBefore ${leaf.notBefore})`)
    hints.push(`check the clocks: ${WRONG_CLOCK}; else the certificate was issued to start later`)
  } else if (verdict.expired) {
    failures.push(`${expiredText(leaf.notAfter, verdict.at)} (notAfter ${leaf.notAfter})`)
    hints.push(`renew the Console certificate; if it is valid by the Console's own clock, ${WRONG_CLOCK}`)
  } else notes.push(`valid at the capture time, ${verdict.expiresInDays} days left`)
  if (verdict.chainVerified === false) {
    failures.push(`its chain does not verify to --ca: ${verdict.chainError}`)
    hints.push(verdict.likelyCauseText ?? 'check that --ca is the Console CA')
  } else if (verdict.chainVerified) notes.push('chain verified to --ca')
  if (verdict.pinMatches === false) {
    failures.push(`its SHA-256 ${leaf.sha256} is not the pinned one`)
    hints.push('the Console certificate was replaced, or something in between presents its own')
  } else if (verdict.pinMatches) notes.push('matches the pin')
  const frames = [frame]
  if (failures.length > 0) {
    return {id: ID, status: 'fail', confidence: 'observed', summary: `server certificate "${who}": ${failures.join('; ')}`, evidence: {frames, values}, hint: hints.join('; ')}
  }
  const summary = `server certificate "${who}" issued by "${leaf.issuer}": ${notes.join(', ')}`
  if (verdict.captureTimeOutOfRange) {
    // Inconclusive, not a PASS: validity at the capture time is part of what a PASS states.
    return {id: ID, status: 'warn', confidence: 'observed', summary, evidence: {frames, values}, hint: 'the capture\'s timestamps are corrupt: recapture, or repair them (editcap -t) to have the validity judged'}
  }
  // A policy asked for but left unjudged (no CA bundle loaded for --ca, say) is not a pass.
  const unjudged = [
    policy.consoleName !== undefined && verdict.nameMatches === undefined && 'the name (--console)',
    policy.caFile !== undefined && verdict.chainVerified === undefined && 'the chain (--ca)',
    policy.pin !== undefined && verdict.pinMatches === undefined && 'the pin (--pin)',
  ].filter((item): item is string => typeof item === 'string')
  if (unjudged.length > 0) {
    return {id: ID, status: 'warn', confidence: 'observed', summary: `${summary}; ${unjudged.join(', ')} could not be checked`, evidence: {frames, values}, hint: `${unjudged.join(', ')} asked for but not evaluated`}
  }
  if (verdict.expiresInDays < EXPIRY_WARNING_DAYS) {
    return {id: ID, status: 'warn', confidence: 'observed', summary, evidence: {frames, values}, hint: `the certificate expires in ${verdict.expiresInDays} days (${leaf.notAfter}): renew it`}
  }
  return {id: ID, status: 'pass', confidence: 'observed', summary, evidence: {frames, values}}
}

function inferTls13(facts: ConnectionFacts, tls: TlsFacts, policy: Policy): CheckResult {
  const serverHello = tls.serverHello!
  if (serverHello.extensions.includes(EXT_PRE_SHARED_KEY)) return skip(ID, 'resumed TLS 1.3 session (pre_shared_key): the server sends no certificate on resumption')
  const flights = tls13HandshakeOf(facts)!
  const unchecked = [policy.consoleName !== undefined && 'name (--console)', policy.caFile !== undefined && 'chain (--ca)', policy.pin !== undefined && 'pin (--pin)'].filter((item): item is string => typeof item === 'string')
  const uncheckedNote = unchecked.length > 0 ? `; the ${unchecked.join(', ')} cannot be checked: the certificate is encrypted (TLS 1.3)` : ''
  const serverFrames = flights.serverFlight.map((r) => r.frame)
  const values = {serverFlightBytes: flights.serverFlightBytes, serverFlightRecords: flights.serverFlight.length, clientFlightKind: flights.clientFlightKind}
  if (flights.serverFlight.length === 0) {
    const ended = describeEnding(facts, serverHello)
    return {
      id: ID,
      status: 'fail',
      confidence: 'inferred',
      summary: `inferred: no encrypted flight (which would carry the certificate) followed the ServerHello (frame ${serverHello.frame}): ${ended.text}`,
      evidence: {frames: [serverHello.frame, ...ended.frames], values},
      hint: 'the server stopped right after ServerHello (see tls.alerts)',
    }
  }
  const flightText = `the server's encrypted flight of ${formatBytes(flights.serverFlightBytes)} in ${flights.serverFlight.length} record(s)`
  if (flights.clientFlightKind === undefined || flights.clientFlightKind === 'alert') {
    const last = flights.serverFlight[flights.serverFlight.length - 1]
    const ended = describeEnding(facts, last, 'client')
    const alertText = flights.clientFlightKind === 'alert' ? `answered with an alert-sized encrypted record (frame ${flights.clientFlight[0].frame})` : 'did not send its Finished'
    if (flights.clientFlightKind === undefined && ended.frames.length === 0) {
      return {id: ID, status: 'warn', confidence: 'inferred', summary: `inferred: ${flightText} was not answered by the client before the capture ended${uncheckedNote}`, evidence: {frames: serverFrames, values}, hint: 'capture longer to see whether the client accepts the certificate'}
    }
    return {
      id: ID,
      status: 'fail',
      confidence: 'inferred',
      summary: `inferred: after ${flightText} the client ${alertText} and ${ended.text.replace(/^the client sent /, 'sent ')}: it rejected the server's certificate`,
      evidence: {frames: [...serverFrames, ...flights.clientFlight.slice(0, 1).map((r) => r.frame), ...ended.frames], values},
      hint: 'the Defender does not trust the certificate it was shown: a TLS-inspecting proxy or a load balancer presenting its own certificate, or a Console certificate not issued by the CA the Defender trusts; capture with --keylog to see it',
    }
  }
  const accepted: CheckResult = {
    id: ID,
    status: 'pass',
    confidence: 'inferred',
    summary: `inferred: ${flightText} is large enough to carry a certificate and the client continued (sent its Finished flight, frame ${flights.clientFlight[0].frame}), so it accepted it${uncheckedNote}`,
    evidence: {frames: [...serverFrames, flights.clientFlight[0].frame], values},
  }
  // The client accepting the certificate says nothing of the policy the user asked for: a pass
  // would claim --ca/--pin/--console were verified (a CI gate green for the wrong CA).
  if (unchecked.length > 0) {
    accepted.status = 'warn'
    accepted.hint = `encrypted: give --keylog (the Defender's SSLKEYLOGFILE, or a pcapng with its keys) to check the ${unchecked.join(', ')}`
  }
  return accepted
}
