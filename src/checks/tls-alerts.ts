/**
 * tls.alerts: no fatal alert (RFC 8446 §6). Plaintext alerts (before encryption starts, all of
 * TLS 1.2's handshake alerts) and decrypted ones are read; TLS 1.3 alerts after ServerHello are
 * encrypted, so one that ends a failed handshake is inferred from its size (2 bytes + type + tag).
 */
import type {ConnectionFacts, Tls13Handshake} from '../model/facts.js'
import {CONTENT_ALERT, CONTENT_APPLICATION_DATA} from '../protocols/tls/iana/content-types.js'
import type {TlsAlertInfo} from '../protocols/tls/types.js'
import type {CheckResult} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import {decryptedThroughout, describeEnding, noTlsReason, skip, tls13HandshakeOf, tlsFactsOf} from './tls-common.js'

const ID = 'tls.alerts'
const CLOSE_NOTIFY = 0
const FATAL = 2

/** What to do about the alerts that say something specific about a Defender ↔ Console setup. */
const ALERT_HINTS: Record<number, string> = {
  40: 'handshake_failure: no common cipher suite, group or signature algorithm, or the server refused the client certificate',
  42: 'bad_certificate: the peer rejected the certificate it was shown; a load balancer terminating TLS breaks the Defender\'s mTLS this way',
  45: 'certificate_expired: renew the certificate the peer rejected',
  48: 'unknown_ca: the peer does not trust the issuer of the certificate it was shown (wrong CA, or a TLS-inspecting proxy)',
  70: 'protocol_version: no TLS version both sides accept (see tls.client-hello and --min-tls)',
  112: 'unrecognized_name: the server does not know the SNI name; connect with the Console\'s name',
  116: 'certificate_required: the Console requires the Defender\'s client certificate and got none: check the Defender certificates (/var/lib/twistlock/certificates/ on a self-hosted Console) and that nothing in between terminates TLS',
}

/** certificate_required from a server on the SaaS profile: SaaS does not ask Defenders for certificates. */
const SAAS_CERTIFICATE_REQUIRED = 'certificate_required: the server asks for a client certificate, which a SaaS Console does not (it authenticates Defenders with a token): check that this address is the SaaS Console and not a proxy or a self-hosted Console'

function alertHint(description: number, policy: Policy | undefined): string | undefined {
  if (description === 116 && policy?.saas === true) return SAAS_CERTIFICATE_REQUIRED
  return ALERT_HINTS[description]
}

export function checkTlsAlerts(facts: ConnectionFacts, policy?: Policy): CheckResult {
  const tls = tlsFactsOf(facts)
  if (!tls || tls.notTls || (tls.clientHellos.length === 0 && tls.records.length === 0)) return skip(ID, tls?.notTls ? 'the connection does not carry TLS' : noTlsReason(facts))
  const fatal = tls.alerts.filter((a) => a.level === FATAL)
  const values = {alerts: tls.alerts.map((a) => ({from: a.from, level: a.level, description: a.description, name: a.descriptionName, frame: a.frame}))}
  if (fatal.length > 0) {
    const first = fatal[0]
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `the ${first.from} sent fatal alert ${alertName(first)} (frame ${first.frame})${first.decrypted ? ' [decrypted]' : ''}${fatal.length > 1 ? ` and ${fatal.length - 1} more` : ''}`,
      evidence: {frames: fatal.map((a) => a.frame), values},
      hint: alertHint(first.description, policy) ?? `the ${first.from} aborted the connection with ${first.descriptionName}`,
    }
  }
  const warnings = tls.alerts.filter((a) => a.description !== CLOSE_NOTIFY)
  if (warnings.length > 0) {
    const first = warnings[0]
    return {
      id: ID,
      status: 'warn',
      confidence: 'observed',
      summary: `the ${first.from} sent warning alert ${alertName(first)} (frame ${first.frame})`,
      evidence: {frames: warnings.map((a) => a.frame), values},
      hint: alertHint(first.description, policy) ?? 'a warning-level alert is not fatal but says something went wrong',
    }
  }
  // Alerts past LIST_CAPS.alerts are counted, not listed (the first fatal one is always listed).
  const closes = tls.alerts.length + (tls.truncated?.alerts ?? 0)
  if (decryptedThroughout(tls)) {
    // With every protected record decrypted, no alert was hidden: the absence is observed.
    return {
      id: ID,
      status: 'pass',
      confidence: tls.recordsTruncated ? 'inferred' : 'observed',
      summary: `no fatal alert${closes > 0 ? ` (${closes} close_notify)` : ''}; every encrypted record was decrypted (${tls.decryption!.records} records)`,
      evidence: {frames: tls.alerts.map((a) => a.frame), values},
    }
  }
  if (!tls.serverHello && tls.records.some((r) => r.contentType === CONTENT_APPLICATION_DATA)) {
    // No ServerHello in the capture (it started mid-connection): the version is unknown, and a
    // TLS 1.3 alert travels inside an application_data record (RFC 8446 §5.2), so "no fatal
    // alert" cannot be claimed.
    return skip(ID, `${noTlsReason(facts)}: the encrypted records may carry alerts that cannot be read without the handshake`)
  }
  const flights = tls13HandshakeOf(facts)
  const rejected = flights && inferredAlert(facts, flights)
  if (rejected) return rejected
  const hidden = unreadableAlertRecords(tls)
  // "No fatal alert" is observed only when no record could hide one: TLS 1.3 alerts after the
  // ServerHello travel as encrypted application_data records (RFC 8446 §5.2), TLS 1.2 alerts after
  // ChangeCipherSpec keep content type 21 but their level and description are encrypted.
  const encryptedNote = flights
    ? '; inferred: alerts after the TLS 1.3 ServerHello are encrypted, and the connection went on as if none was fatal (use --keylog to read them)'
    : hidden > 0
      ? `; inferred: ${hidden} encrypted alert record(s) after ChangeCipherSpec cannot be read (most likely close_notify, as the session had completed; use --keylog to read them)`
      : ''
  return {
    id: ID,
    status: 'pass',
    confidence: flights || hidden > 0 || tls.recordsTruncated ? 'inferred' : 'observed',
    summary: `no fatal alert${closes > 0 ? ` (${closes} readable close_notify)` : ''}${encryptedNote}`,
    evidence: {frames: tls.alerts.map((a) => a.frame), values: {...values, unreadableAlertRecords: hidden}},
  }
}

/** Alert records (content type 21) whose alert was not read: encrypted after ChangeCipherSpec. */
function unreadableAlertRecords(tls: NonNullable<ReturnType<typeof tlsFactsOf>>): number {
  const alertRecords = tls.records.filter((r) => r.contentType === CONTENT_ALERT).length
  // Alerts past LIST_CAPS.alerts were read but not listed: they count as read (each record holds one or more).
  return Math.max(0, alertRecords - tls.alerts.filter((a) => !a.decrypted).length - (tls.truncated?.alerts ?? 0))
}

function alertName(alert: TlsAlertInfo): string {
  return `${alert.descriptionName} (${alert.description})`
}

/**
 * A TLS 1.3 handshake that stops on an alert-sized encrypted record followed by its sender's
 * close: the record is almost certainly a fatal alert (a close_notify would not come mid-handshake).
 */
function inferredAlert(facts: ConnectionFacts, flights: Tls13Handshake): CheckResult | undefined {
  const candidates = [
    flights.clientFlightKind === 'alert' ? {record: flights.clientFlight[0], from: 'client' as const, after: "the server's encrypted flight"} : undefined,
    flights.serverAlertAfterClient && flights.serverAfterClient.length === 0 ? {record: flights.serverAlertAfterClient, from: 'server' as const, after: "the client's final flight"} : undefined,
  ]
  for (const candidate of candidates) {
    if (!candidate) continue
    const ending = describeEnding(facts, candidate.record, candidate.from)
    if (ending.frames.length === 0) continue
    return {
      id: ID,
      status: 'fail',
      confidence: 'inferred',
      summary:
        `inferred: the ${candidate.from} answered ${candidate.after} with a ${candidate.record.length}-byte encrypted record (frame ${candidate.record.frame}), ` +
        `the size of an alert, and then ${ending.text.replace(/^the (client|server) sent /, 'sent ')}: a fatal alert ended the handshake (its description is encrypted; use --keylog to read it)`,
      evidence: {frames: [candidate.record.frame, ...ending.frames], values: {recordLength: candidate.record.length, from: candidate.from}},
      hint:
        candidate.from === 'server'
          ? 'the Console rejected the Defender\'s final flight: typically certificate_required or bad_certificate (missing or untrusted client certificate)'
          : 'the Defender rejected the server\'s certificate: typically unknown_ca or bad_certificate (see tls.certificate)',
    }
  }
  return undefined
}
