/**
 * Check contract: a check reads ConnectionFacts and the policy and returns a CheckResult. No
 * bytes, no I/O. Ids are a public contract (DESIGN.md, README).
 */
import type {HoldsCappedLists} from '../lists.js'
import type {ConnectionFacts} from '../analysis/types.js'

export const CHECK_IDS = [
  'tcp.syn',
  'tcp.syn-ack',
  'tcp.ack',
  // Only on connections through an HTTP CONNECT / SOCKS proxy (and on a probe with --proxy).
  'proxy.connect',
  'tls.client-hello',
  'tls.server-hello',
  'tls.version',
  'tls.certificate',
  'tls.client-certificate',
  'tls.finished',
  'tls.alerts',
  'ws.upgrade',
  'ws.session',
] as const

export type CheckId = (typeof CHECK_IDS)[number] | 'dns.resolve' | 'ws.ping'

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip'

/**
 * A connection's verdict: its worst check status, or inconclusive when no check failed but the
 * essential handshake was not seen (no SYN and no ClientHello, or payload cut by the snaplen).
 * Under --strict a warn is a fail.
 */
export type ConnectionVerdict = CheckStatus | 'inconclusive'

/** observed: the bytes were read; inferred: concluded from what is visible (reasoning in summary). */
export type Confidence = 'observed' | 'inferred'

export interface CheckEvidence extends HoldsCappedLists {
  /** Frame numbers the verdict rests on (the first LIST_CAPS.evidenceFrames; `truncated.frames` counts the rest). */
  frames: number[]
  /** Values read or computed (RTT, versions, counts...). */
  values?: Record<string, unknown>
}

export interface CheckResult {
  id: CheckId
  status: CheckStatus
  confidence: Confidence
  summary: string
  evidence: CheckEvidence
  /** What to do about a fail/warn, or why a skip. */
  hint?: string
}

export type TlsVersionPolicy = '1.2' | '1.3'

export interface Policy {
  /** Console ports (default [8084]); empty means every TCP port. */
  ports: number[]
  /** --console as given. */
  console?: string
  /** --console parsed as an IP address (restricts connections to that server address). */
  consoleIp?: string
  /** --console as a host name (SNI selection, certificate identity). */
  consoleName?: string
  /**
   * --min-tls as given. Absent: the default policy (TLS 1.3 pass, TLS 1.2 warn, below fail), since
   * newer Consoles negotiate TLS 1.3 and some versions document mutual TLS 1.2 (DESIGN.md).
   */
  minTls?: TlsVersionPolicy
  /** --strict: a warn makes the verdict fail (CI gates). */
  strict?: boolean
  /** SaaS Console (port 443 or --saas): Defenders authenticate with a token, not a client certificate. */
  saas?: boolean
  /** PEM bundle path for chain verification. */
  caFile?: string
  /** sha256:HEX pin of the server certificate. */
  pin?: string
}

export type Check = (facts: ConnectionFacts, policy: Policy) => CheckResult
