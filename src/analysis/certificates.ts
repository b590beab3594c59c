/**
 * Certificate policy as facts: the checks are pure, so everything that needs crypto (chain
 * verification) or the CA bundle happens here, once per connection, and the verdicts are stored
 * in ConnectionFacts.certificates for tls.certificate to read.
 */
import type {CertificateFacts} from '../model/facts.js'
import type {Policy} from '../model/policy.js'
import type {TlsFacts} from '../protocols/tls/types.js'
import {evaluateServerCertificate, type CaBundle} from './cert-policy.js'

export interface CertificateContext {
  /** --ca, loaded once by the caller. */
  ca?: CaBundle
}

export function evaluateCertificates(tls: TlsFacts, policy: Policy, context?: CertificateContext): CertificateFacts | undefined {
  const message = tls.serverCertificate
  if (!message || message.certificates.length === 0) return undefined
  const server = evaluateServerCertificate(message.certificates, {
    consoleName: policy.consoleName,
    consoleIp: policy.consoleIp,
    ca: context?.ca,
    pin: policy.pin,
    // Validity is judged at the time of the capture, not today (a capture of last year's problem must say what was true then).
    at: new Date(message.ts * 1000),
  })
  return {server}
}
