/**
 * certs.requested-ca: the CA that issued the Defender's certificate against the CA names the
 * Console asks for in its CertificateRequest (TLS 1.3 certificate_authorities, RFC 8446 §4.2.4
 * and §4.3.2; TLS 1.2 certificate_authorities, RFC 5246 §7.4.4). The probe read the request from
 * its own handshake (probe/phases/handshake-tap.ts), so what it states is observed. A Console
 * that names CAs and none of them issued the Defender's certificate will refuse it: after a
 * Defender CA rotation, a Defender that was not redeployed still holds the old CA's certificate.
 */
import type {CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeFacts} from '../../model/probe.js'
import {SAAS_NO_CLIENT_CERTIFICATE} from '../tls-client-certificate.js'
import {CLIENT_CERT_HINT, notAttempted, result} from './common.js'

const ID = 'certs.requested-ca'

export const CA_MISMATCH_HINT =
  'the Console asks for certificates of another CA than the one that issued this Defender\'s: after a Defender CA rotation, a Defender that was not redeployed keeps the old CA\'s certificate and stops connecting; redeploy the Defender (check the directory with `defender-check certs`). If the server asking is not the Console (a load balancer or proxy terminating TLS with its own client CA list), send the Defender straight to the Console'

/** Whether the Defender's issuer is among the requested CA names; undefined when there is nothing to compare. */
export function issuerRequested(issuer: string | undefined, authorities: readonly string[] | undefined): boolean | undefined {
  if (issuer === undefined || authorities === undefined || authorities.length === 0) return undefined
  return authorities.includes(issuer)
}

export function probeCertsRequestedCa(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = facts.handshake
  if (!hs) return notAttempted(ID, facts)
  const request = hs.certificateRequest
  const issuer = hs.clientCertificateIssuerName
  const values = {state: request?.state, authorities: request?.authorities, defenderIssuer: issuer, decrypted: request?.decrypted}
  if (policy.saas === true) return result(ID, 'skip', SAAS_NO_CLIENT_CERTIFICATE, values)
  if (!request) return result(ID, 'skip', 'the Console\'s CertificateRequest was not looked for', values)
  if (request.state === 'unreadable') return result(ID, 'skip', `the Console's CertificateRequest could not be read: ${request.reason}`, values)
  if (request.state === 'not-sent') return result(ID, 'skip', 'the Console did not ask for a client certificate (its flight, read to its end, has no CertificateRequest): no CA names to compare (see tls.client-certificate)', values)
  const how = request.decrypted ? ' (read from the decrypted handshake)' : ''
  const asked = request.authorities
  if (asked === undefined) return result(ID, 'skip', `the Console asks for a client certificate without naming CAs${how}: any issuer may be offered, nothing to compare`, values)
  const list = asked.map((name) => `"${name}"`).join(', ')
  if (issuer === undefined) return result(ID, 'skip', `the Console asks for a client certificate issued by ${list}${how}; the probe had none to compare`, values, CLIENT_CERT_HINT)
  if (issuerRequested(issuer, asked)) return result(ID, 'pass', `the Defender's certificate was issued by "${issuer}", one of the ${asked.length} CA(s) the Console asks for${how}`, values)
  return result(ID, 'fail', `the Console asks for a client certificate issued by ${list}${how}; the Defender's certificate was issued by "${issuer}", which it does not name`, values, CA_MISMATCH_HINT)
}
