/**
 * `watch --listen`'s /metrics, in the Prometheus text format (prom-client, a registry of its own,
 * not the library's global one). Names and labels follow Prometheus' conventions: the
 * `defender_check_` prefix, base units (seconds), `_total` counters, `_timestamp_seconds` for
 * Unix times, and enumerations one-hot (`status="pass"` 1, the other statuses 0) so an alert is a
 * plain comparison. Nothing here carries a secret: the Console's host and port only (no path or
 * query, which may hold a token), certificate subjects and expiry times, never key material.
 */
import {createServer, type Server} from 'node:http'
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'
import type {CheckResult, CheckStatus} from '../../model/checks.js'
import type {SessionEndReason} from '../../model/defenders.js'
import type {CertificateSummary} from '../../model/probe.js'
import {UsageError} from '../../errors.js'
import {TOOL_VERSION} from '../../analysis/version.js'

const STATUSES: readonly CheckStatus[] = ['pass', 'warn', 'fail', 'skip']
/** Every end reason is exported from the start (at 0), so rate() and increase() see the first one. */
const END_REASONS: readonly SessionEndReason[] = ['fin', 'rst', 'ws-close', 'tls-alert', 'ping-timeout', 'refused', 'error']

/** Which certificate a certificate metric is about. */
export type CertificateRole = 'console' | 'client' | 'defender_ca'

export class WatchMetrics {
  readonly registry = new Registry()
  private readonly up: Gauge
  private readonly checkStatus: Gauge
  private readonly handshake: Histogram
  private readonly pingRtt: Histogram
  private readonly sessions: Counter
  private readonly sessionDuration: Histogram
  private readonly attempts: Counter
  private readonly probes: Counter
  private readonly lastProbe: Gauge
  private readonly certExpiry: Gauge
  private readonly clockSkew: Gauge
  private readonly certificates = new Map<CertificateRole, CertificateSummary[]>()

  constructor(console: string) {
    const registers = [this.registry]
    new Gauge({name: 'defender_check_info', help: 'The watched Console (host:port) and this tool\'s version; always 1.', labelNames: ['console', 'version'], registers}).set({console, version: TOOL_VERSION}, 1)
    this.up = new Gauge({name: 'defender_check_up', help: '1 while a WebSocket session to the Console is established (TCP, mTLS and the 101 upgrade done, pings answered), 0 otherwise.', registers})
    this.up.set(0)
    this.checkStatus = new Gauge({name: 'defender_check_check_status', help: 'Result of each check in the latest full probe: 1 for the status it had, 0 for the others.', labelNames: ['check', 'status'], registers})
    this.handshake = new Histogram({name: 'defender_check_handshake_duration_seconds', help: 'Time each phase of opening a session took: tcp (SYN to SYN-ACK), tls (ClientHello to Finished), upgrade (GET to 101).', labelNames: ['phase'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers})
    this.pingRtt = new Histogram({name: 'defender_check_ping_rtt_seconds', help: 'Round trip of the WebSocket pings on the held session (RFC 6455 §5.5.2-3).', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers})
    this.sessions = new Counter({name: 'defender_check_sessions_total', help: 'Session attempts that ended, by how they ended: fin, rst, ws-close, tls-alert, ping-timeout, refused (never established), error.', labelNames: ['end_reason'], registers})
    for (const reason of END_REASONS) this.sessions.inc({end_reason: reason}, 0)
    this.sessionDuration = new Histogram({name: 'defender_check_session_duration_seconds', help: 'Lifetime of the established sessions that ended (a channel cut by an idle timeout shows one sharp bucket).', buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400], registers})
    this.attempts = new Counter({name: 'defender_check_connection_attempts_total', help: 'Attempts to open the session, by result (established or failed).', labelNames: ['result'], registers})
    this.attempts.inc({result: 'established'}, 0)
    this.attempts.inc({result: 'failed'}, 0)
    this.probes = new Counter({name: 'defender_check_probes_total', help: 'Full probes run every --interval on a fresh connection, by verdict.', labelNames: ['verdict'], registers})
    this.lastProbe = new Gauge({name: 'defender_check_last_probe_timestamp_seconds', help: 'When the latest full probe ended (Unix time).', registers})
    this.certExpiry = new Gauge({name: 'defender_check_certificate_expiry_timestamp_seconds', help: 'notAfter of the Console\'s certificate (as last presented), the Defender\'s client certificate and each Defender CA certificate (Unix time); kept after expiry.', labelNames: ['certificate', 'subject'], registers})
    const certificates = this.certificates
    // Time left is computed at each scrape, so it goes negative after expiry without a probe.
    new Gauge({
      name: 'defender_check_certificate_expires_in_seconds',
      help: 'Seconds until each certificate expires, negative once it has.',
      labelNames: ['certificate', 'subject'],
      registers,
      collect() {
        this.reset()
        const now = Date.now()
        for (const [role, list] of certificates) for (const c of list) this.set({certificate: role, subject: c.subject}, Math.round((Date.parse(c.validTo) - now) / 1000))
      },
    })
    this.clockSkew = new Gauge({name: 'defender_check_clock_skew_seconds', help: 'The Console\'s clock minus this host\'s, from the Date header of its latest 101 answer (±0.5 s plus half the round trip); absent until a 101 carried a Date.', registers})
    // An unlabelled gauge reads 0 until set: a skew of 0 that nobody measured would pass the alert.
    this.clockSkew.reset()
    collectDefaultMetrics({register: this.registry})
  }

  setUp(up: boolean): void {
    this.up.set(up ? 1 : 0)
  }

  observeHandshake(phase: 'tcp' | 'tls' | 'upgrade', ms: number | undefined): void {
    if (ms !== undefined) this.handshake.observe({phase}, ms / 1000)
  }

  observePing(ms: number): void {
    this.pingRtt.observe(ms / 1000)
  }

  attempt(established: boolean): void {
    this.attempts.inc({result: established ? 'established' : 'failed'})
  }

  sessionEnded(reason: SessionEndReason, established: boolean, durationSeconds: number): void {
    this.sessions.inc({end_reason: reason})
    if (established) this.sessionDuration.observe(durationSeconds)
  }

  probed(checks: readonly CheckResult[], verdict: string): void {
    this.checkStatus.reset()
    for (const check of checks) for (const status of STATUSES) this.checkStatus.set({check: check.id, status}, check.status === status ? 1 : 0)
    this.probes.inc({verdict})
    this.lastProbe.set(Date.now() / 1000)
  }

  /** Replaces the certificates of one role (a renewed one takes the old one's place). */
  setCertificates(role: CertificateRole, list: readonly CertificateSummary[]): void {
    this.certificates.set(role, [...list])
    // Only this role's series are replaced: the gauge has no per-label reset, so it is rebuilt.
    this.certExpiry.reset()
    for (const [r, certs] of this.certificates) for (const c of certs) this.certExpiry.set({certificate: r, subject: c.subject}, Date.parse(c.validTo) / 1000)
  }

  setClockSkew(seconds: number): void {
    this.clockSkew.set(seconds)
  }
}

/** `host:port` or `[v6]:port` → where to listen. */
export function parseListen(text: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[3]) : NaN
  if (!match || port > 65535) throw new UsageError(`--listen ${JSON.stringify(text)}: expected host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464`)
  return {host: match[1] ?? (match[2] === '' ? '0.0.0.0' : match[2]!), port}
}

/** Serves GET /metrics (and nothing else) until closed. */
export async function serveMetrics(metrics: WatchMetrics, listen: {host: string; port: number}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('defender-check watch serves /metrics\n')
      return
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, {'content-type': metrics.registry.contentType}).end(text),
      (error: unknown) => res.writeHead(500, {'content-type': 'text/plain'}).end(`metrics failed: ${(error as Error).message}\n`),
    )
  })
  // Slow or idle scrapers must not pin sockets forever.
  server.headersTimeout = 10_000
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new UsageError(`--listen ${listen.host}:${listen.port}: ${error.code ?? error.message}`)))
    server.listen(listen.port, listen.host, () => resolve())
  })
  return server
}
