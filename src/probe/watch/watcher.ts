/**
 * `defender-check watch`: holds the channel the way a Defender does and records every session,
 * reconnecting with capped exponential backoff (1 s, 2 s, 4 s … --max-backoff) while attempts
 * fail, at once after an established session ends; every --interval it also runs the full probe
 * on a fresh connection (its checks feed defender_check_check_status). It runs until `signal`
 * aborts, then closes the held session cleanly (1000) and returns the per-Defender view.
 */
import {connectionVerdict} from '../../checks/index.js'
import type {CheckResult} from '../../model/checks.js'
import type {DefenderSession, DefenderView} from '../../model/defenders.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeFacts} from '../../model/probe.js'
import type {ConnectionReport} from '../../model/report.js'
import {MAX_CA_BUNDLE_CERTIFICATES, MAX_WATCH_SESSIONS, WATCH_MAX_PAYLOAD_BYTES} from '../../limits.js'
import {summarizeCertificate} from '../credentials.js'
import {runProbe, type ProbeOptions} from '../probe.js'
import {probeConnection} from '../report.js'
import {SessionHistory} from './history.js'
import type {WatchMetrics} from './metrics.js'
import {holdChannel, noteSessionAlert, openChannel} from './session.js'

export interface WatchOptions {
  probe: ProbeOptions
  policy: Policy
  pingIntervalMs: number
  /** An unanswered ping ends the session after this long. */
  pingTimeoutMs: number
  /** The full probe runs this often (and once at the start). */
  probeIntervalMs: number
  initialBackoffMs: number
  maxBackoffMs: number
}

/** What `watch -f ndjson` writes, one per line. */
export type WatchEvent =
  | {type: 'session-start'; session: number; at: string; console: string; tcpMs?: number; tlsMs?: number; upgradeMs?: number; tlsVersion?: string; clockSkewSeconds?: number}
  | {type: 'session-end'; session: DefenderSession; error?: {code: string; message: string}; pings?: number; pongs?: number; nextAttemptInMs?: number}
  | {type: 'probe'; at: string; verdict: string; checks: Array<Pick<CheckResult, 'id' | 'status' | 'summary'>>}

export interface WatchHooks {
  signal: AbortSignal
  metrics?: WatchMetrics
  onEvent?(event: WatchEvent): void
}

export interface WatchResult {
  view: DefenderView
  /** The latest full probe (the report's one connection). */
  lastProbe?: ConnectionReport
  sessions: number
}

export async function watchConsole(options: WatchOptions, hooks: WatchHooks): Promise<WatchResult> {
  const {signal, metrics} = hooks
  const emit = (event: WatchEvent) => hooks.onEvent?.(event)
  const {target} = options.probe
  const history = new SessionHistory({key: 'this host', clientIp: '0.0.0.0', ...(target.servername === undefined ? {} : {sni: target.servername})}, MAX_WATCH_SESSIONS, options.pingIntervalMs / 1000)
  const client = options.probe.credentials.client
  if (metrics) {
    if (client) metrics.setCertificates('client', [client.summary])
    const ca = options.probe.credentials.ca
    if (ca) metrics.setCertificates('defender_ca', splitPem(ca.pem.toString('latin1')).slice(0, MAX_CA_BUNDLE_CERTIFICATES).map((pem) => summarizeCertificate(Buffer.from(pem), ca.file)))
  }
  const sessionOptions: ProbeOptions = {...options.probe, maxPayload: WATCH_MAX_PAYLOAD_BYTES}
  delete sessionOptions.holdMs

  // The full probe, on its own connection, now and every --interval; one at a time.
  let lastProbe: ConnectionReport | undefined
  let probeRunning: Promise<void> | undefined
  let probeCount = 0
  const runFullProbe = () => {
    if (probeRunning || signal.aborted) return
    probeRunning = runProbe({...options.probe, maxPayload: WATCH_MAX_PAYLOAD_BYTES})
      .then((facts) => {
        const connection = probeConnection(facts, options.policy, ++probeCount)
        lastProbe = connection
        metrics?.probed(connection.checks, connection.verdict)
        if (facts.handshake?.peerCertificate) metrics?.setCertificates('console', [facts.handshake.peerCertificate])
        emit({type: 'probe', at: facts.endedAt, verdict: connection.verdict, checks: connection.checks.map(({id, status, summary}) => ({id, status, summary}))})
      })
      .catch(() => undefined)
      .finally(() => {
        probeRunning = undefined
      })
  }
  runFullProbe()
  const probeTimer = setInterval(runFullProbe, options.probeIntervalMs)

  let failures = 0
  let number = 0
  try {
    while (!signal.aborted) {
      number++
      const startedAt = new Date()
      const opened = await openChannel(sessionOptions)
      const {facts} = opened
      metrics?.observeHandshake('tcp', facts.tcp.ms)
      metrics?.observeHandshake('tls', facts.handshake?.ms)
      metrics?.observeHandshake('upgrade', facts.upgrade?.ms)
      if (facts.handshake?.peerCertificate) metrics?.setCertificates('console', [facts.handshake.peerCertificate])
      if (opened.clockSkewSeconds !== undefined) metrics?.setClockSkew(opened.clockSkewSeconds)
      if (facts.tcp.local) history.setIdentity({key: `${facts.tcp.local.ip}${client ? ` ${client.summary.subject}` : ''}`, clientIp: facts.tcp.local.ip, ...(client ? {certificateSubject: client.summary.subject, certificateFingerprint: `sha256:${client.summary.sha256}`} : {}), ...(target.servername === undefined ? {} : {sni: target.servername})})
      const established = opened.open !== undefined
      metrics?.attempt(established)

      let session: DefenderSession
      let event: Extract<WatchEvent, {type: 'session-end'}>
      if (opened.open) {
        failures = 0
        metrics?.setUp(true)
        emit({
          type: 'session-start',
          session: number,
          at: startedAt.toISOString(),
          console: `${target.host}:${target.port}`,
          ...defined({tcpMs: facts.tcp.ms, tlsMs: facts.handshake?.ms, upgradeMs: facts.upgrade?.ms, tlsVersion: facts.handshake?.version, clockSkewSeconds: opened.clockSkewSeconds}),
        })
        const end = await holdChannel(opened.open, opened.tls, {
          pingIntervalMs: options.pingIntervalMs,
          pingTimeoutMs: options.pingTimeoutMs,
          signal,
          onPong: (rtt) => metrics?.observePing(rtt),
        })
        metrics?.setUp(false)
        opened.tls?.destroy()
        const endedAt = new Date()
        if (end.reason === 'tls-alert') noteSessionAlert(facts, opened.open.lastError())
        // The session judged by the probe's checks (ws.session reads the hold as --hold does).
        facts.session = {holdMs: endedAt.getTime() - startedAt.getTime(), pings: end.pings, pongs: end.pongs, ...defined({maxRttMs: end.maxRttMs, closeCode: end.wsCloseCode, error: end.error})}
        if (end.pongs > 0) facts.ping = {...defined({rttMs: end.maxRttMs})}
        else if (end.error) facts.ping = {error: end.error}
        facts.endedAt = endedAt.toISOString()
        session = sessionRecord(number, startedAt, endedAt, true, facts, options.policy, {reason: end.reason, by: end.by, ...defined({wsCloseCode: end.wsCloseCode})}, end.idleSeconds)
        event = {type: 'session-end', session, pings: end.pings, pongs: end.pongs, ...defined({error: end.error})}
      } else {
        failures++
        const endedAt = new Date()
        session = sessionRecord(number, startedAt, endedAt, false, facts, options.policy, {reason: 'refused', by: refusedBy(facts)})
        event = {type: 'session-end', session, ...defined({error: firstError(facts)})}
      }
      history.record(session)
      metrics?.sessionEnded(session.end.reason, session.established, session.durationSeconds)
      if (signal.aborted) {
        emit(event)
        break
      }
      const delay = failures === 0 ? 0 : Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** Math.min(30, failures - 1))
      emit({...event, nextAttemptInMs: delay})
      if (delay > 0) await sleep(delay, signal)
    }
  } finally {
    clearInterval(probeTimer)
    await probeRunning
    metrics?.setUp(false)
  }
  return {view: history.view(options.policy), sessions: history.count, ...(lastProbe ? {lastProbe} : {})}
}

function sessionRecord(number: number, startedAt: Date, endedAt: Date, established: boolean, facts: ProbeFacts, policy: Policy, end: Pick<DefenderSession['end'], 'reason' | 'by' | 'wsCloseCode'>, idleSeconds?: number): DefenderSession {
  const connection = probeConnection(facts, policy, number)
  const record: DefenderSession = {
    connection: number,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationSeconds: Math.round(endedAt.getTime() - startedAt.getTime()) / 1000,
    established,
    // watch is the client: it read every byte of its own session, and saw how it ended.
    end: {...end, confidence: end.reason === 'rst' ? 'inferred' : 'observed'},
    verdict: established ? connectionVerdict(connection.checks, policy) : connection.verdict,
    failedChecks: connection.checks.filter((c) => c.status === 'fail').map((c) => c.id),
  }
  if (idleSeconds !== undefined) record.idleBeforeEndSeconds = idleSeconds
  return record
}

/** An RST to the SYN or a TLS alert came from the Console's side; a timeout or a name that does not resolve, from nobody. */
function refusedBy(facts: ProbeFacts): DefenderSession['end']['by'] {
  if (facts.tcp.error?.code === 'ECONNREFUSED' || facts.handshake?.alert || facts.upgrade?.status !== undefined) return 'server'
  return 'unknown'
}

/** The error of the first phase that failed. */
function firstError(facts: ProbeFacts): {code: string; message: string} | undefined {
  return facts.dns.error ?? facts.tcp.error ?? facts.handshake?.error ?? facts.upgrade?.error
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
}

/** The entries whose value is defined (exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(values: T): {[K in keyof T]?: Exclude<T[K], undefined>} {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as {[K in keyof T]?: Exclude<T[K], undefined>}
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}
