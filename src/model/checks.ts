/**
 * What a check returns: ids (a public contract, DESIGN.md and README), statuses, verdicts and
 * evidence. Shared by the checks that produce them, the analysis that tallies them and the
 * renderers that write them.
 */
import type {HoldsCappedLists} from '../lists.js'

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
  // Only on connections redirected through a Microperimeter firewall (GENEVE option 0x20): the hairpin.
  'path.redirect',
  // Only on connections whose capture shows a local proxy, load balancer or injected RST.
  'path.answered-by',
] as const

/** Per Defender, across its connections (model/defenders.ts), not per connection. */
export const DEFENDER_CHECK_IDS = ['channel.stability'] as const

/** The probe's own checks, beside the ids it shares with analyze (DESIGN.md: "probe/watch add dns.resolve, ws.ping, clock.skew and certificate lifetimes"). */
export const PROBE_CHECK_IDS = ['dns.resolve', 'ws.ping', 'clock.skew', 'certs.lifetime', 'certs.requested-ca'] as const

export type CheckId = (typeof CHECK_IDS)[number] | (typeof DEFENDER_CHECK_IDS)[number] | (typeof PROBE_CHECK_IDS)[number]

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
