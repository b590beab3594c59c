/**
 * What the probe's checks share (src/checks/probe/*.ts): the probe is the client, so what it
 * reports it read itself: every result is `observed`. Phases after a failed one are skipped and
 * say which one failed. Evidence carries no frames (nothing was captured), only values: timings
 * and what was seen.
 */
import type {CheckId, CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {HandshakeFacts, ProbeFacts, ProbeFailure} from '../../model/probe.js'
import {protocolNames, type ProtocolName} from '../../protocols/index.js'

/** Alerts a server sends about the client's certificate (RFC 8446 §6.2). */
export const CLIENT_CERTIFICATE_ALERTS = new Set([40, 42, 43, 44, 45, 46, 48, 49, 116])

/** What a server's alert usually means for a Defender (the probe plays the Defender). */
const ALERT_HINTS: Record<number, string> = {
  40: 'handshake_failure: no common cipher suite or group, or the server refused the client certificate',
  42: 'bad_certificate: the Console rejected the client certificate; a load balancer terminating TLS in front of the Console rejects the Defender\'s certificate this way',
  45: 'certificate_expired: the client certificate has expired: renew the Defender\'s certificates',
  48: 'unknown_ca: the server does not trust the issuer of the client certificate: it is not the Console that issued it, or a proxy terminates TLS',
  70: 'protocol_version: the server does not accept the TLS versions the probe offers (see --min-tls)',
  112: 'unrecognized_name: the server does not know the SNI name: use the Console\'s name (--servername)',
  116: 'certificate_required: the Console requires the Defender\'s client certificate: give --defender-certs /var/lib/twistlock/certificates (or --cert/--key)',
}

/** The hint for a server's alert; under the SaaS profile none names the self-hosted certificate directory. */
export function alertHint(description: number, policy: Policy): string | undefined {
  if (policy.saas === true && description === 116) return 'certificate_required: the server asks for a client certificate, which a SaaS Console does not (it authenticates Defenders with a token): check that this address is the SaaS Console and not a proxy or a self-hosted Console'
  return ALERT_HINTS[description]
}

export const NOT_ASKED_HINT = 'self-hosted Consoles require the Defender\'s certificate (mTLS); a server that does not ask is likely a load balancer or proxy terminating TLS in front of the Console'

export const CLIENT_CERT_HINT = 'give the probe the Defender\'s certificate: --defender-certs /var/lib/twistlock/certificates, or --cert, --key and --passphrase'

export function result(id: CheckId, status: CheckResult['status'], summary: string, values?: Record<string, unknown>, hint?: string): CheckResult {
  const check: CheckResult = {id, status, confidence: 'observed', summary, evidence: {frames: []}}
  if (values !== undefined) check.evidence.values = values
  if (hint !== undefined) check.hint = hint
  return check
}

export function cause(failure: ProbeFailure): string {
  return `${failure.code}: ${failure.message}`
}

/** Why a later check was not run: the first phase that failed. */
export function notAttempted(id: CheckId, facts: ProbeFacts): CheckResult {
  return result(id, 'skip', `not attempted: ${failedPhase(facts)}`)
}

function failedPhase(facts: ProbeFacts): string {
  if (facts.dns.error) return 'the name did not resolve (see dns.resolve)'
  if (facts.tcp.error) return 'the TCP connection failed (see tcp.syn-ack)'
  // After TCP, the phases are the protocol chain's (src/protocols/), asked in its order.
  for (const name of protocolNames()) {
    const why = PHASE_FAILED[name]?.(facts)
    if (why !== undefined) return why
  }
  return 'an earlier phase failed'
}

/** Why the probe's phase of each registered protocol failed (undefined: it did not). */
const PHASE_FAILED: Partial<Record<ProtocolName, (facts: ProbeFacts) => string | undefined>> = {
  proxy: (facts) => (facts.proxy?.error ? 'the proxy refused the tunnel (see proxy.connect)' : undefined),
  tls: (facts) => {
    const hs = facts.handshake
    if (hs?.error && hs.peerCertificate && (hs.chainVerified !== true || hs.nameError)) return 'the server certificate was rejected (see tls.certificate)'
    if (hs?.alert) return `the server ended the connection with TLS alert ${hs.alert.name} (see tls.alerts)`
    if (hs?.error) return 'the TLS handshake failed (see tls.finished)'
    return undefined
  },
  http: (facts) => (facts.upgrade?.error ? 'the WebSocket upgrade failed (see ws.upgrade)' : undefined),
  ws: (facts) => (facts.ping?.error ? 'the ping was not answered (see ws.ping)' : undefined),
}

/** The handshake was attempted (DNS, TCP and any proxy went through). */
export function handshakeOf(facts: ProbeFacts): HandshakeFacts | undefined {
  return facts.handshake
}
