/** tls.certificate as the probe judges it: the server certificate chains to the trust and carries the name. */
import {isIP} from 'node:net'
import type {CheckResult} from '../../model/checks.js'
import type {HandshakeFacts, ProbeFacts} from '../../model/probe.js'
import {result, notAttempted, handshakeOf} from './common.js'

export function probeTlsCertificate(facts: ProbeFacts): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.certificate', facts)
  const cert = hs.peerCertificate
  if (!cert) return result('tls.certificate', 'skip', 'the handshake ended before the server\'s certificate was verified (see tls.finished)')
  const identity = hs.servername ?? facts.target.host
  const values = {...cert, chain: hs.peerChain, trust: hs.trust, chainVerified: hs.chainVerified, chainError: hs.chainError, nameError: hs.nameError, servername: hs.servername}
  const who = `"${cert.subject}" issued by "${cert.issuer}"`
  // The chain (OpenSSL's verdict against the trust) and the name (checkServerIdentity against the
  // target) are separate problems, each with its own words and hint: a name mismatch is never
  // reported as an untrusted chain, nor an untrusted chain as a wrong name.
  const problems: string[] = []
  const hints: string[] = []
  if (hs.chainVerified !== true) {
    problems.push(`chain not trusted by ${hs.trust}: ${hs.chainError}`)
    hints.push(chainHint(hs.chainError, cert, hs.trust))
  }
  if (hs.nameError) {
    const isAddress = isIP(identity) !== 0
    problems.push(`name mismatch: ${isAddress ? 'IP address' : 'name'} ${identity} is not on the certificate (${hs.nameError})`)
    hints.push(
      isAddress
        ? `the certificate has no IP Address subjectAltName ${identity}: connect by a name it carries (the URL's host, or --servername), or reissue the Console certificate with IP:${identity} in its subjectAltName`
        : 'connect with the name the certificate carries, or give it with --servername',
    )
  }
  const hint = hints.join('; ')
  if (problems.length > 0) {
    if (hs.insecure) return result('tls.certificate', 'warn', `${who}: ${problems.join('; ')}; --insecure: the probe went on anyway`, values, hint)
    return result('tls.certificate', 'fail', `certificate rejected: ${who}: ${problems.join('; ')}`, values, hint)
  }
  return result('tls.certificate', 'pass', `${who}, valid until ${cert.validTo}, chain verified against ${hs.trust}, ${isIP(identity) !== 0 ? 'IP address' : 'name'} ${identity} matches`, values)
}

/** OpenSSL's chain verdicts (X509_V_ERR_*, as node names them) in the words a user acts on. */
function chainHint(code: string | undefined, cert: NonNullable<HandshakeFacts['peerCertificate']>, trust: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `the Console certificate expired on ${cert.validTo}: renew it`
    case 'CERT_NOT_YET_VALID':
      return `the certificate is valid only from ${cert.validFrom}: check the clocks`
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `"${cert.issuer}" is not a CA in ${trust}: give the Console's CA with --ca (or --defender-certs); if that issuer is a proxy's or load balancer's, it is intercepting or terminating TLS in front of the Console`
    default:
      return `the chain does not verify against ${trust} (${code}): check the Console certificate and its CA`
  }
}
