/**
 * tls.client-certificate: the client presented a certificate when the server asked (skip when not
 * asked). Observed from plaintext (TLS 1.2) or decrypted CertificateRequest / Certificate. In TLS
 * 1.3 without keys both are encrypted, but a client that is asked MUST send a Certificate message,
 * empty when it has none, before its Finished (RFC 8446 §4.4.2): the size of its first encrypted
 * record tells a bare Finished, an empty Certificate and a real one apart.
 */
import type {ConnectionFacts} from '../model/facts.js'
import {HS_SERVER_HELLO_DONE} from '../protocols/tls/iana/handshake-types.js'
import type {TlsFacts} from '../protocols/tls/types.js'
import type {CheckResult} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import {decryptedThroughout, describeEnding, endingAfter, formatBytes, isTls13, skip, tls13HandshakeOf, tlsFactsOf} from './tls-common.js'
import type {FrameRef} from '../stream/types.js'
import {isCaptureTimeInRange, isoTime} from '../time.js'
import {expiredText, notYetValidText, WRONG_CLOCK} from './tls-certificate.js'

/** "not yet valid for another 2 h 13 min at capture time", "expired 3 days before capture time", or undefined when valid (or the time is unusable). */
function validityAtCapture(notBefore: string, notAfter: string, ts: number): string | undefined {
  if (!isCaptureTimeInRange(ts)) return undefined
  const at = isoTime(ts)
  const time = Date.parse(at)
  if (time < Date.parse(notBefore)) return notYetValidText(notBefore, at)
  if (time > Date.parse(notAfter)) return expiredText(notAfter, at)
  return undefined
}

const ID = 'tls.client-certificate'
const FATAL_ALERT = 2
const NOT_ASKED_HINT = 'self-hosted Consoles require the Defender\'s certificate (mTLS); a server that does not ask is likely a load balancer or proxy terminating TLS in front of the Console'

export const SAAS_NO_CLIENT_CERTIFICATE = 'SaaS Consoles authenticate Defenders with a token, not a client certificate, so none is expected (SaaS profile: port 443 or --saas)'

export function checkTlsClientCertificate(facts: ConnectionFacts, policy?: Policy): CheckResult {
  const tls = tlsFactsOf(facts)
  if (!tls?.serverHello) return skip(ID, 'no ServerHello (see tls.server-hello)')
  if (policy?.saas === true) return skip(ID, SAAS_NO_CLIENT_CERTIFICATE)
  if (tls.certificateRequest || tls.clientCertificate) return observed(facts, tls)
  const serverFinished = tls.finished?.server
  if (isTls13(tls) && serverFinished && decryptedThroughout(tls)) {
    // RFC 8446 §4.3.2: a CertificateRequest comes before the server's Finished; the whole decrypted flight had none.
    return {id: ID, status: 'skip', confidence: 'observed', summary: `the server did not ask for a client certificate (no CertificateRequest in its decrypted flight, Finished at frame ${serverFinished.frame})`, evidence: {frames: [serverFinished.frame]}, hint: NOT_ASKED_HINT}
  }
  if (isTls13(tls)) return inferTls13(facts, tls)
  const helloDone = tls.handshakeMessages.find((m) => m.type === HS_SERVER_HELLO_DONE && m.direction === 's2c')
  if (helloDone) {
    return {id: ID, status: 'skip', confidence: 'observed', summary: `the server did not ask for a client certificate (no CertificateRequest before ServerHelloDone, frame ${helloDone.frame})`, evidence: {frames: [helloDone.frame]}, hint: NOT_ASKED_HINT}
  }
  return skip(ID, 'the server\'s handshake flight was not seen in full, so whether it asked for a certificate is unknown')
}

function observed(facts: ConnectionFacts, tls: TlsFacts): CheckResult {
  const request = tls.certificateRequest
  const message = tls.clientCertificate
  const frames = [request?.frame, message?.frame].filter((f): f is number => f !== undefined)
  const how = request?.decrypted || message?.decrypted ? ' [decrypted]' : ''
  if (!message) {
    const abort = endingAfter(facts, request!.frame)
    if (abort?.from === 'client' && abort.what.includes('alert')) {
      return skip(ID, `the client aborted with ${abort.what} (frame ${abort.frame}) before its certificate was due (see tls.certificate, tls.alerts)`)
    }
    const ended = describeEnding(facts, request!)
    return {
      id: ID,
      status: ended.frames.length === 0 ? 'warn' : 'fail',
      confidence: 'observed',
      summary: `the server asked for a client certificate (frame ${request!.frame})${how} but the client sent no Certificate: ${ended.text}`,
      evidence: {frames: [...frames, ...ended.frames]},
      hint: 'the Defender did not continue the handshake: see tls.alerts',
    }
  }
  const leaf = message.certificates[0]
  if (!leaf) {
    const serverGoesOn = serverWentOnAfter(tls, message.frame)
    if (serverGoesOn) return acceptedWithoutCertificate(message.frame, serverGoesOn.frame, 'observed', `it sent an empty Certificate (frame ${message.frame})${how}`)
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `the server asked for a client certificate and the client sent an empty Certificate (frame ${message.frame})${how}: it has none to give`,
      evidence: {frames},
      hint: 'give the Defender its client certificate and key (defender-client-cert.pem, defender-client-key.pem under /var/lib/twistlock/certificates/)',
    }
  }
  const values = {subject: leaf.subject, issuer: leaf.issuer, notAfter: leaf.notAfter, sha256: leaf.sha256, chainLength: message.certificates.length}
  // Its validity at the capture time: an expired or not-yet-valid Defender certificate is a reason
  // for a rejection, and a wrong clock is one cause of reading it so.
  const validity = validityAtCapture(leaf.notBefore, leaf.notAfter, message.ts)
  const validityNote = validity ? `; its certificate was ${validity}` : ''
  const rejection = endingAfter(facts, message.frame, 'server')
  if (rejection && rejection.what.includes('fatal')) {
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `the client presented "${leaf.commonName ?? leaf.subject}" (frame ${message.frame})${how} and the server rejected it with ${rejection.what} (frame ${rejection.frame})${validityNote}`,
      evidence: {frames: [...frames, rejection.frame], values},
      hint: validity
        ? `the Defender's certificate was ${validity}: redeploy the Defender for a new one; if it is valid by the Console's own clock, ${WRONG_CLOCK}`
        : 'the Console does not accept this certificate: check it was issued by the Console\'s Defender CA and has not expired',
    }
  }
  return {id: ID, status: 'pass', confidence: 'observed', summary: `the client presented "${leaf.commonName ?? leaf.subject}" issued by "${leaf.issuer}" (frame ${message.frame})${how}${validityNote}${validity ? ` (${WRONG_CLOCK})` : ''}`, evidence: {frames, values}}
}

/**
 * The server carried on after the client's Certificate: TLS 1.2, its ChangeCipherSpec; TLS 1.3
 * (read from decrypted records), a record after it and no fatal alert of its own.
 */
function serverWentOnAfter(tls: TlsFacts, frame: number): FrameRef | undefined {
  if (!isTls13(tls)) return tls.changeCipherSpec.s2c && tls.changeCipherSpec.s2c.frame > frame ? tls.changeCipherSpec.s2c : undefined
  if (tls.alerts.some((a) => a.from === 'server' && a.level === FATAL_ALERT && a.frame >= frame)) return undefined
  return tls.records.find((r) => r.direction === 's2c' && r.frame > frame)
}

function inferTls13(facts: ConnectionFacts, tls: TlsFacts): CheckResult {
  const flights = tls13HandshakeOf(facts)!
  const first = flights.clientFlight[0]
  if (!first || flights.clientFlightKind === 'alert') return skip(ID, 'the client never sent its final flight (see tls.certificate)')
  const {sizes} = flights
  const values = {firstClientRecordBytes: first.length, clientFlightBytes: flights.clientFlightBytes, finishedRecordBytes: sizes.finished, clientFlightKind: flights.clientFlightKind}
  const requestNote = 'the CertificateRequest itself is encrypted'
  switch (flights.clientFlightKind) {
    case 'finished':
      return {
        id: ID,
        status: 'skip',
        confidence: 'inferred',
        summary: `inferred: not asked — the client's first encrypted record (frame ${first.frame}) is ${first.length} bytes, exactly a Finished alone; a TLS 1.3 client that is asked must send a Certificate (empty if it has none) first (RFC 8446 §4.4.2), so the server did not request one (${requestNote})`,
        evidence: {frames: [first.frame], values},
        hint: NOT_ASKED_HINT,
      }
    case 'empty-certificate':
      if (flights.serverAfterClient.length > 0) return acceptedWithoutCertificate(first.frame, flights.serverAfterClient[0].frame, 'inferred', `its first encrypted record (frame ${first.frame}) is ${first.length} bytes, the size of an empty Certificate message (${requestNote})`, values)
      return {
        id: ID,
        status: 'fail',
        confidence: 'inferred',
        summary: `inferred: the server asked for a certificate and the client had none — its first encrypted record (frame ${first.frame}) is ${first.length} bytes, the size of an empty Certificate message (${requestNote})`,
        evidence: {frames: [first.frame], values},
        hint: 'give the Defender its client certificate and key (defender-client-cert.pem, defender-client-key.pem under /var/lib/twistlock/certificates/)',
      }
    case 'certificate':
      break
    default:
      return skip(ID, `the client's first encrypted record (frame ${first.frame}) is ${first.length} bytes: neither a Finished alone (${sizes.finished}) nor large enough for a certificate, so whether it sent one is not visible without keys (--keylog)`)
  }
  const presented = `the client's final flight is ${formatBytes(flights.clientFlightBytes)} (first record ${first.length} bytes) instead of the ${sizes.finished} of a Finished alone, so it carried a certificate`
  if (flights.serverAfterClient.length > 0) {
    return {
      id: ID,
      status: 'pass',
      confidence: 'inferred',
      summary: `inferred: ${presented} (so the server had asked for one); the server continued after it (frame ${flights.serverAfterClient[0].frame}), so it accepted it`,
      evidence: {frames: [first.frame, flights.serverAfterClient[0].frame], values},
    }
  }
  const ended = describeEnding(facts, flights.clientFlight[flights.clientFlight.length - 1], 'server')
  if (ended.frames.length === 0 && !flights.serverAlertAfterClient) {
    return {id: ID, status: 'warn', confidence: 'inferred', summary: `inferred: ${presented}; the capture ended before the server answered`, evidence: {frames: [first.frame], values}, hint: 'capture longer'}
  }
  return {
    id: ID,
    status: 'fail',
    confidence: 'inferred',
    summary: `inferred: ${presented}, and the server rejected the client's final flight (likely an encrypted alert: missing or untrusted client certificate): ${ended.text}, never any data`,
    evidence: {frames: [first.frame, ...(flights.serverAlertAfterClient ? [flights.serverAlertAfterClient.frame] : []), ...ended.frames], values},
    hint: 'the Console did not accept the Defender\'s certificate: check it was issued by the Console\'s Defender CA and is valid; a load balancer or proxy terminating TLS also rejects it',
  }
}

/**
 * Asked, none given, and the server carried on: optional client authentication. The connection
 * works, so this is not a failure of the channel — but a self-hosted Console requires the
 * Defender's certificate, so a server that lets it through is worth a warning.
 */
function acceptedWithoutCertificate(clientFrame: number, serverFrame: number, confidence: 'observed' | 'inferred', how: string, values?: Record<string, unknown>): CheckResult {
  return {
    id: ID,
    status: 'warn',
    confidence,
    summary: `${confidence === 'inferred' ? 'inferred: ' : ''}the server asked for a client certificate and the client had none — ${how}; the server carried on anyway (frame ${serverFrame}), so client authentication is optional there`,
    evidence: {frames: [clientFrame, serverFrame], values},
    hint: 'a self-hosted Console requires the Defender\'s certificate: give the Defender its certificate (/var/lib/twistlock/certificates/), and check that the server that let it through without one is really the Console (not a proxy or load balancer terminating TLS)',
  }
}
