/** tls.client-certificate as the probe judges it: the server asked for the probe's client certificate and accepted it. */
import type {CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeFacts} from '../../model/probe.js'
import {SAAS_NO_CLIENT_CERTIFICATE} from '../tls-client-certificate.js'
import {CLIENT_CERTIFICATE_ALERTS, alertHint, NOT_ASKED_HINT, CLIENT_CERT_HINT, result, notAttempted, handshakeOf} from './common.js'

/** The connection ended under the probe (not an answer): a reset, or a close before any response. */
const CONNECTION_ENDED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

export function probeTlsClientCertificate(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.client-certificate', facts)
  if (policy.saas === true) return result('tls.client-certificate', 'skip', SAAS_NO_CLIENT_CERTIFICATE, {requested: hs.clientCertificateRequested})
  const mine = hs.clientCertificate
  const values = {requested: hs.clientCertificateRequested, presented: mine && hs.clientCertificateRequested ? mine : undefined, alert: hs.alert}
  if (hs.clientCertificateRequested === undefined) {
    return result('tls.client-certificate', 'skip', 'the handshake failed before the server\'s flight was read (see tls.finished)', values)
  }
  const rejection = hs.alert && CLIENT_CERTIFICATE_ALERTS.has(hs.alert.description) ? hs.alert : undefined
  if (!hs.clientCertificateRequested) {
    const offered = mine ? ` (the probe had "${mine.subject}" to offer)` : ''
    return result('tls.client-certificate', 'skip', `the server did not ask for a client certificate${offered}`, values, NOT_ASKED_HINT)
  }
  if (!mine) {
    if (rejection) return result('tls.client-certificate', 'fail', `the server asked for a client certificate, the probe had none, and the server answered with alert ${rejection.name} (${rejection.description})`, values, CLIENT_CERT_HINT)
    if (facts.upgrade?.status !== undefined) {
      return result('tls.client-certificate', 'warn', 'the server asked for a client certificate, the probe had none, and the server carried on anyway: client authentication is optional there', values, 'a self-hosted Console requires the Defender\'s certificate: check that this server is really the Console (not a proxy or load balancer terminating TLS)')
    }
    return result('tls.client-certificate', 'skip', 'the server asked for a client certificate and the probe had none; whether the server accepts that was not seen (see the checks below)', values, CLIENT_CERT_HINT)
  }
  const presented = `the probe presented "${mine.subject}" issued by "${mine.issuer}"`
  if (rejection) {
    return result('tls.client-certificate', 'fail', `${presented} and the server rejected it with alert ${rejection.name} (${rejection.description})`, values, alertHint(rejection.description, policy) ?? 'the Console does not accept this certificate: check it was issued by the Console\'s CA and has not expired')
  }
  if (facts.upgrade?.status === undefined && !facts.upgrade?.error) {
    return result('tls.client-certificate', 'skip', `${presented}; the probe stopped before the server's verdict on it was seen`, values)
  }
  if (facts.upgrade?.status === undefined && facts.upgrade?.error && CONNECTION_ENDED.has(facts.upgrade.error.code)) {
    // The server ended the session right after the probe's certificate, answering nothing and
    // sending no alert (node's TLS servers do this when they reject a client certificate): that
    // is not an acceptance. Inferred: no alert names the reason.
    const mismatch = hs.certificateRequest?.authorities !== undefined && hs.clientCertificateIssuerName !== undefined && !hs.certificateRequest.authorities.includes(hs.clientCertificateIssuerName)
    return {
      ...result('tls.client-certificate', 'fail', `inferred: ${presented} and the server ended the connection (${facts.upgrade.error.code}) before answering the upgrade, without a TLS alert: it did not accept the session, most likely refusing the certificate${mismatch ? ' (it asks for another CA: see certs.requested-ca)' : ''}`, values, 'the Console does not accept this certificate: check it was issued by the Console\'s current Defender CA (certs.requested-ca) and has not expired (certs.lifetime)'),
      confidence: 'inferred',
    }
  }
  return result('tls.client-certificate', 'pass', `${presented} when asked; the server accepted it (it answered after the probe's final flight)`, values)
}
