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
}
