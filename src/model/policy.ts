/** The policy a run judges connections by (flags and defaults, built by analysis/policy.ts). */

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
  /** probe --clock-warn / --clock-fail: the Console's clock may differ from this host's by this much (ms) before clock.skew warns / fails. */
  clockWarnMs?: number
  clockFailMs?: number
  /** probe --warn-days / --fail-days: certs.lifetime warns / fails when a certificate on the Defender's path has fewer days left. */
  certWarnDays?: number
  certFailDays?: number
  /** channel.stability's thresholds, when a flag set one (the rest are the defaults). */
  stability?: StabilityThresholds
}

/**
 * channel.stability's thresholds (checks/channel-stability.ts): flags on analyze and capture
 * (--storm-attempts, --storm-window, --idle-cut-sessions, --stopped-after). Policy.stability is
 * set only when one was given, so a report's `policy` stays as it was; the view says what it used.
 */
export interface StabilityThresholds {
  /** More connection attempts than this within stormWindowSeconds is a reconnect storm (default 10). */
  stormAttempts: number
  /** The storm window, in seconds (default 60). */
  stormWindowSeconds: number
  /** Sessions cut by the Console's side after the same idle time before that is called an idle timeout (default 3). */
  idleCutSessions: number
  /** A Defender whose last session ended this many seconds before the capture did, with no new attempt, has stopped reconnecting (default 60). */
  stoppedAfterSeconds: number
}

export const DEFAULT_STABILITY: Readonly<StabilityThresholds> = Object.freeze({stormAttempts: 10, stormWindowSeconds: 60, idleCutSessions: 3, stoppedAfterSeconds: 60})

/** The thresholds a policy judges stability by: its own, or the defaults. */
export function stabilityOf(policy: Policy): StabilityThresholds {
  return policy.stability ?? DEFAULT_STABILITY
}
