/**
 * The per-Defender view (issue 18, model/defenders.ts): connections grouped by Defender as each
 * one is decided, so the streamed outputs stay streamed. A Defender is its client address,
 * refined by the client certificate's subject when visible (TLS 1.2's cleartext Certificate, or
 * TLS 1.3 decrypted with keys) and the SNI.
 *
 * Memory is bounded by the Defenders (Limits.maxDefenders), not the connections: per Defender,
 * counters, running min/max, a count per failed check and per ending, and its most recent
 * sessions as numbers in one Float64Array (LIST_CAPS.defenderSessions of them). A connection
 * costs a Map lookup by its client address and a few numbers written; no object is made for it.
 * The reports (and channel.stability) are made once, at the end.
 */
import {LIST_CAPS} from '../lists.js'
import {DEFAULT_MAX_DEFENDERS} from '../limits.js'
import {isoTime} from '../time.js'
import {checkChannelStability} from '../checks/channel-stability.js'
import {CHECK_IDS, type CheckId, type CheckResult, type CheckStatus, type ConnectionVerdict} from '../model/checks.js'
import type {
  DefenderPeer,
  DefenderReport,
  DefenderSession,
  DefenderView,
  DurationStats,
  SessionEndReason,
  SessionEndedBy,
} from '../model/defenders.js'
import type {ConnectionFacts} from '../model/facts.js'
import {derivedOf} from './derive.js'
import {stabilityOf, type Policy} from '../model/policy.js'

/** Codes of SessionEndedBy / SessionEndReason, as stored in the session ring. */
const ENDED_BY: readonly SessionEndedBy[] = ['client', 'server', 'path', 'open', 'unknown']
const END_REASONS: readonly SessionEndReason[] = ['fin', 'rst', 'ws-close', 'tls-alert', 'ping-timeout', 'capture-end', 'refused', 'error', 'unknown']
const BY_CLIENT = 0
const BY_SERVER = 1
const BY_OPEN = 3
const BY_UNKNOWN = 4
const R_FIN = 0
const R_RST = 1
const R_WS_CLOSE = 2
const R_TLS_ALERT = 3
const R_CAPTURE_END = 5
const R_REFUSED = 6
const R_UNKNOWN = 8
const VERDICTS: readonly ConnectionVerdict[] = ['skip', 'pass', 'warn', 'inconclusive', 'fail']
/** Worse is higher: fail > inconclusive > warn > pass > skip (README: fail > inconclusive > pass). */
const VERDICT_RANK: Record<ConnectionVerdict, number> = {skip: 0, pass: 1, warn: 2, inconclusive: 3, fail: 4}
const CHECK_INDEX = new Map<string, number>(CHECK_IDS.map((id, i) => [id, i]))
const WS_UPGRADE = CHECK_INDEX.get('ws.upgrade')!

/** One session in the ring: these fields, in this order. */
const F_CONNECTION = 0
const F_START = 1
const F_END = 2
const F_ESTABLISHED = 3
const F_IDLE = 4
const F_REASON = 5
const F_BY = 6
const F_WS_CODE = 7
const F_FRAME = 8
const F_VERDICT = 9
const F_FAILED = 10
const F_GAP = 11
const FIELDS = 12
/** Sessions the ring holds at first; it doubles up to LIST_CAPS.defenderSessions. */
const FIRST_RING = 4
/** Two established sessions that overlap less than this are a reconnect racing the old session's teardown, not two Defenders. */
const CONCURRENT_OVERLAP_S = 1

/** What one connection adds to its Defender, worked out without keeping the connection. */
export interface SessionNumbers {
  start: number
  end: number
  established: boolean
  idle: number
  reason: number
  by: number
  wsCode: number
  frame: number
  verdict: number
  failed: number
  /** End of the last handshake that completed (TCP + TLS + upgrade), or NaN. */
  goodHandshake: number
  pingInterval: number
}

class DefenderState {
  connections = 0
  firstTs = Infinity
  lastTs = -Infinity
  lastGoodTs = -Infinity
  /** Connections on which each CHECK_IDS check failed (made at the first failure). */
  failed: Uint32Array | undefined
  readonly lifetime = new RunningStats()
  readonly gap = new RunningStats()
  /** Latest end of a session that ended: the next attempt's gap is measured from it. */
  latestEnd = -Infinity
  /** Start of the latest attempt seen, and whether it is still open at the end. */
  latestStart = -Infinity
  latestOpen = false
  readonly endings = new Uint32Array(ENDED_BY.length * END_REASONS.length)
  ring = new Float64Array(FIRST_RING * FIELDS)
  /** Sessions added so far; the ring holds the last min(added, cap). */
  added = 0
  worst = 0
  pingInterval = Infinity
  /** The last stormAttempts attempt starts (a ring), for the storm window. */
  readonly starts: Float64Array
  startsAdded = 0
  stormAttempts = 0
  stormFrom = 0
  stormTo = 0
  inStorm = false
  fingerprint: string | undefined

  constructor(
    readonly ip: string,
    readonly subject: string | undefined,
    readonly sni: string | undefined,
    stormAttempts: number,
  ) {
    this.starts = new Float64Array(Math.max(1, stormAttempts))
  }

  add(s: SessionNumbers, stormWindow: number, sessionsCap: number): void {
    this.connections++
    if (s.start < this.firstTs) this.firstTs = s.start
    if (s.end > this.lastTs) this.lastTs = s.end
    if (s.goodHandshake > this.lastGoodTs) this.lastGoodTs = s.goodHandshake
    if (s.failed !== 0) {
      const failed = (this.failed ??= new Uint32Array(CHECK_IDS.length))
      for (let i = 0; i < CHECK_IDS.length; i++) if ((s.failed & (1 << i)) !== 0) failed[i]++
    }
    const open = s.by === BY_OPEN
    // Clamped: a corrupt timestamp (test/regression/findings.test.ts, year 9999) can put the end before the start.
    if (s.established && !open) this.lifetime.add(Math.max(0, s.end - s.start))
    let gap = Number.NaN
    if (s.start >= this.latestEnd && this.latestEnd !== -Infinity) {
      gap = s.start - this.latestEnd
      this.gap.add(gap)
    }
    if (!open && s.end > this.latestEnd) this.latestEnd = s.end
    if (s.start >= this.latestStart) {
      this.latestStart = s.start
      this.latestOpen = open
    }
    this.endings[s.by * END_REASONS.length + s.reason]++
    if (s.verdict > this.worst) this.worst = s.verdict
    if (s.pingInterval < this.pingInterval) this.pingInterval = s.pingInterval
    this.noteStart(s.start, stormWindow)
    this.keep(s, gap, sessionsCap)
  }

  /** The storm window: the attempt stormAttempts before this one started at most stormWindow earlier. */
  private noteStart(start: number, window: number): void {
    const starts = this.starts
    const size = starts.length
    const slot = this.startsAdded % size
    // The start stormAttempts attempts ago: with this one, stormAttempts + 1 attempts in the window.
    const earlier = starts[slot]!
    const full = this.startsAdded >= size
    starts[slot] = start
    this.startsAdded++
    if (full && Math.abs(start - earlier) <= window) {
      if (!this.inStorm) {
        this.inStorm = true
        if (this.stormAttempts === 0) this.stormFrom = Math.min(earlier, start)
        this.stormAttempts += size
      }
      this.stormAttempts++
      if (start > this.stormTo) this.stormTo = start
    } else {
      this.inStorm = false
    }
  }

  private keep(s: SessionNumbers, gap: number, cap: number): void {
    let ring = this.ring
    const slots = ring.length / FIELDS
    if (this.added >= slots && slots < cap) {
      // Still growing: the ring is in order (nothing overwritten yet).
      const grown = new Float64Array(Math.min(cap, slots * 2) * FIELDS)
      grown.set(ring)
      this.ring = ring = grown
    }
    const at = (this.added % (ring.length / FIELDS)) * FIELDS
    ring[at + F_CONNECTION] = 0
    ring[at + F_START] = s.start
    ring[at + F_END] = s.end
    ring[at + F_ESTABLISHED] = s.established ? 1 : 0
    ring[at + F_IDLE] = s.idle
    ring[at + F_REASON] = s.reason
    ring[at + F_BY] = s.by
    ring[at + F_WS_CODE] = s.wsCode
    ring[at + F_FRAME] = s.frame
    ring[at + F_VERDICT] = s.verdict
    ring[at + F_FAILED] = s.failed
    ring[at + F_GAP] = gap
    this.added++
  }

  /** Sets the connection id of the session just kept (kept apart so SessionNumbers stays reusable). */
  setLastConnection(id: number): void {
    const ring = this.ring
    const at = ((this.added - 1) % (ring.length / FIELDS)) * FIELDS
    ring[at + F_CONNECTION] = id
  }

  /**
   * Takes in `other`, a less specific identity of the same Defender (its connections whose
   * certificate or SNI were not visible: a capture started mid-connection, keys for some
   * sessions only). Counters add up, the kept sessions are the most recent of both.
   */
  absorb(other: DefenderState, cap: number): void {
    this.connections += other.connections
    this.firstTs = Math.min(this.firstTs, other.firstTs)
    this.lastTs = Math.max(this.lastTs, other.lastTs)
    this.lastGoodTs = Math.max(this.lastGoodTs, other.lastGoodTs)
    if (other.failed !== undefined) {
      const failed = (this.failed ??= new Uint32Array(CHECK_IDS.length))
      for (let i = 0; i < failed.length; i++) failed[i] += other.failed[i]!
    }
    this.lifetime.merge(other.lifetime)
    this.gap.merge(other.gap)
    this.latestEnd = Math.max(this.latestEnd, other.latestEnd)
    if (other.latestStart > this.latestStart) {
      this.latestStart = other.latestStart
      this.latestOpen = other.latestOpen
    }
    for (let i = 0; i < this.endings.length; i++) this.endings[i] += other.endings[i]!
    this.worst = Math.max(this.worst, other.worst)
    this.pingInterval = Math.min(this.pingInterval, other.pingInterval)
    if (other.stormAttempts > this.stormAttempts) {
      this.stormAttempts = other.stormAttempts
      this.stormFrom = other.stormFrom
      this.stormTo = other.stormTo
    }
    const rows = [...this.keptRows(), ...other.keptRows()].sort((a, b) => a[F_START]! - b[F_START]!).slice(-cap)
    const added = this.added + other.added
    const ring = new Float64Array(Math.max(1, rows.length) * FIELDS)
    rows.forEach((row, i) => ring.set(row, ((added - rows.length + i) % Math.max(1, rows.length)) * FIELDS))
    this.ring = ring
    this.added = added
  }

  /** The kept sessions' rows (copies), in the order they were added. */
  private keptRows(): Float64Array[] {
    const slots = this.ring.length / FIELDS
    const kept = Math.min(this.added, slots)
    const rows: Float64Array[] = []
    for (let i = 0; i < kept; i++) {
      const at = ((this.added - kept + i) % slots) * FIELDS
      rows.push(this.ring.slice(at, at + FIELDS))
    }
    return rows
  }

  /** The kept sessions, oldest first by start. */
  sessions(): DefenderSession[] {
    const ring = this.ring
    const slots = ring.length / FIELDS
    const kept = Math.min(this.added, slots)
    const sessions: DefenderSession[] = []
    for (let i = 0; i < kept; i++) {
      const at = ((this.added - kept + i) % slots) * FIELDS
      const start = ring[at + F_START]!
      const end = ring[at + F_END]!
      const failedMask = ring[at + F_FAILED]!
      const failedChecks: CheckId[] = []
      for (let c = 0; c < CHECK_IDS.length; c++) if ((failedMask & (1 << c)) !== 0) failedChecks.push(CHECK_IDS[c]!)
      const by = ENDED_BY[ring[at + F_BY]!]!
      const reason = END_REASONS[ring[at + F_REASON]!]!
      const session: DefenderSession = {
        connection: ring[at + F_CONNECTION]!,
        startedAt: isoTime(start),
        endedAt: isoTime(end),
        durationSeconds: round3(Math.max(0, end - start)),
        established: ring[at + F_ESTABLISHED] === 1,
        end: {reason, by, confidence: 'observed'},
        verdict: VERDICTS[ring[at + F_VERDICT]!]!,
        failedChecks,
      }
      const idle = ring[at + F_IDLE]!
      if (!Number.isNaN(idle)) session.idleBeforeEndSeconds = round3(idle)
      const wsCode = ring[at + F_WS_CODE]!
      if (!Number.isNaN(wsCode)) session.end.wsCloseCode = wsCode
      const frame = ring[at + F_FRAME]!
      if (!Number.isNaN(frame)) session.end.frame = frame
      sessions.push(session)
    }
    return sessions.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.connection - b.connection))
  }

  /** The gaps of the kept sessions (for the median). */
  keptValues(field: typeof F_GAP | 'lifetime'): number[] {
    const ring = this.ring
    const slots = ring.length / FIELDS
    const kept = Math.min(this.added, slots)
    const values: number[] = []
    for (let i = 0; i < kept; i++) {
      const at = ((this.added - kept + i) % slots) * FIELDS
      if (field === 'lifetime') {
        if (ring[at + F_ESTABLISHED] === 1 && ring[at + F_BY] !== BY_OPEN) values.push(Math.max(0, ring[at + F_END]! - ring[at + F_START]!))
      } else if (!Number.isNaN(ring[at + field]!)) {
        values.push(ring[at + field]!)
      }
    }
    return values
  }
}

/** count, min, max of a stream of numbers; the median comes from the kept sessions. */
class RunningStats {
  count = 0
  min = Infinity
  max = -Infinity
  last = Number.NaN

  add(value: number): void {
    this.count++
    this.last = value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
  }

  merge(other: RunningStats): void {
    if (other.count === 0) return
    this.count += other.count
    this.min = Math.min(this.min, other.min)
    this.max = Math.max(this.max, other.max)
    this.last = other.last
  }

  stats(kept: number[]): DurationStats | undefined {
    if (this.count === 0) return undefined
    // The kept sessions may hold none of these values (all of them older): the median of the last one.
    if (kept.length === 0) kept = [this.last]
    const stats: DurationStats = {count: this.count, min: round3(this.min), median: round3(median(kept)), max: round3(this.max)}
    if (kept.length < this.count) stats.medianOf = kept.length
    return stats
  }
}

export interface DefenderViewOptions {
  policy: Policy
  /** Defenders grouped (default DEFAULT_MAX_DEFENDERS); the rest are counted. */
  maxDefenders?: number
  /** Sessions kept per Defender (default LIST_CAPS.defenderSessions). */
  sessionsPerDefender?: number
}

/**
 * Groups connections by Defender as they are decided (add) and makes the view at the end (view).
 * Used by the Analyzer for analyze and capture.
 */
export class DefenderViewBuilder {
  /** By client address: the Defender, or the Defenders told apart by certificate subject and SNI. */
  private readonly byIp = new Map<string, DefenderState | DefenderState[]>()
  private defenders = 0
  private readonly maxDefenders: number
  private readonly sessionsCap: number
  private readonly stormAttempts: number
  private readonly stormWindow: number
  /** Client addresses of the Defenders past maxDefenders (at most maxDefenders of them: then only counted). */
  private readonly overflowIps = new Set<string>()
  private overflowConnections = 0
  /** Reused for every connection: the numbers one connection adds. */
  private readonly numbers: SessionNumbers = {start: 0, end: 0, established: false, idle: 0, reason: 0, by: 0, wsCode: 0, frame: 0, verdict: 0, failed: 0, goodHandshake: 0, pingInterval: 0}

  constructor(private readonly options: DefenderViewOptions) {
    this.maxDefenders = options.maxDefenders ?? DEFAULT_MAX_DEFENDERS
    this.sessionsCap = Math.max(1, options.sessionsPerDefender ?? LIST_CAPS.defenderSessions)
    const thresholds = stabilityOf(options.policy)
    this.stormAttempts = thresholds.stormAttempts
    this.stormWindow = thresholds.stormWindowSeconds
  }

  /**
   * A decided connection. `lastDataTs`: when the last payload byte (either direction) was seen,
   * for the idle time before the end; `captureEndTs`: the last packet of the capture so far.
   */
  add(facts: ConnectionFacts, checks: readonly CheckResult[], verdict: ConnectionVerdict, lastDataTs: number | undefined, captureEndTs: number): void {
    const tls = facts.tls
    const subject = tls?.clientCertificate?.certificates[0]?.subject
    const sni = tls?.clientHellos[0]?.sni
    const state = this.stateOf(facts.client.ip, subject || undefined, sni)
    if (state === undefined) return
    if (state.fingerprint === undefined && subject) state.fingerprint = tls!.clientCertificate!.certificates[0]!.sha256
    const n = this.numbers
    sessionNumbers(n, facts, checks, verdict, lastDataTs, captureEndTs)
    state.add(n, this.stormWindow, this.sessionsCap)
    state.setLastConnection(facts.id)
  }

  /** A decided connection as a shard of a sharded analysis described it (defenderInputOf), with its id in the whole capture. */
  addInput(input: DefenderInput, connectionId: number): void {
    const state = this.stateOf(input.ip, input.subject, input.sni)
    if (state === undefined) return
    if (state.fingerprint === undefined && input.fingerprint !== undefined) state.fingerprint = input.fingerprint
    state.add(input.numbers, this.stormWindow, this.sessionsCap)
    state.setLastConnection(connectionId)
  }

  private stateOf(ip: string, subject: string | undefined, sni: string | undefined): DefenderState | undefined {
    const found = this.byIp.get(ip)
    if (found !== undefined) {
      if (!Array.isArray(found)) {
        if (found.subject === subject && found.sni === sni) return found
      } else {
        for (const state of found) if (state.subject === subject && state.sni === sni) return state
      }
    }
    if (this.defenders >= this.maxDefenders) {
      this.overflowConnections++
      if (this.overflowIps.size < this.maxDefenders) this.overflowIps.add(ip)
      return undefined
    }
    const state = new DefenderState(ip, subject, sni, this.stormAttempts)
    this.defenders++
    if (found === undefined) this.byIp.set(ip, state)
    else if (Array.isArray(found)) found.push(state)
    else this.byIp.set(ip, [found, state])
    return state
  }

  /** The view: one report per Defender (first seen first), each judged by channel.stability. */
  view(captureEndTs: number | undefined): DefenderView {
    const policy = this.options.policy
    const states: DefenderState[] = []
    for (const entry of this.byIp.values()) {
      if (Array.isArray(entry)) for (const state of mergeLessSpecific(entry, this.sessionsCap)) states.push(state)
      else states.push(entry)
    }
    states.sort((a, b) => a.firstTs - b.firstTs || compareText(keyOf(a), keyOf(b)))
    const observedUntil = captureEndTs === undefined ? undefined : isoTime(captureEndTs)
    const reports = states.map((state) => reportOf(state, observedUntil))
    noteCollisions(states, reports)
    for (const report of reports) {
      const check = checkChannelStability(report, policy)
      report.checks = [check]
      if (VERDICT_RANK[check.status] > VERDICT_RANK[report.verdict]) report.verdict = check.status
    }
    const view: DefenderView = {defenders: reports, overflow: this.overflowIps.size, limit: this.maxDefenders, thresholds: stabilityOf(policy)}
    if (this.overflowConnections > 0) view.overflowConnections = this.overflowConnections
    return view
  }
}

/**
 * On one address, an identity without the certificate subject or the SNI (connections whose
 * ClientHello or certificate was not visible) is the same Defender as the one identity that adds
 * them, when there is exactly one such: it is merged into it. With several candidates (two
 * certificates on one address) it stays apart, as what can be told.
 */
function mergeLessSpecific(states: DefenderState[], cap: number): DefenderState[] {
  let remaining = states
  for (let changed = true; changed; ) {
    changed = false
    for (const a of remaining) {
      if (a.subject !== undefined && a.sni !== undefined) continue
      const into = remaining.filter(
        (b) => b !== a && (a.subject === undefined || a.subject === b.subject) && (a.sni === undefined || a.sni === b.sni) && ((a.subject === undefined && b.subject !== undefined) || (a.sni === undefined && b.sni !== undefined)),
      )
      if (into.length !== 1) continue
      into[0]!.absorb(a, cap)
      remaining = remaining.filter((s) => s !== a)
      changed = true
      break
    }
  }
  return remaining
}

function keyOf(state: DefenderState): string {
  let key = state.ip
  if (state.subject !== undefined) key += ` ${state.subject}`
  if (state.sni !== undefined) key += ` sni=${state.sni}`
  return key
}

function reportOf(state: DefenderState, observedUntil: string | undefined): DefenderReport & {checks: CheckResult[]} {
  const identity: DefenderReport['identity'] = {key: keyOf(state), clientIp: state.ip}
  if (state.subject !== undefined) identity.certificateSubject = state.subject
  if (state.fingerprint !== undefined) identity.certificateFingerprint = `sha256:${state.fingerprint}`
  if (state.sni !== undefined) identity.sni = state.sni
  const failedChecks: DefenderReport['failedChecks'] = []
  if (state.failed !== undefined) for (let i = 0; i < CHECK_IDS.length; i++) if (state.failed[i]! > 0) failedChecks.push({id: CHECK_IDS[i]!, count: state.failed[i]!})
  const endings: DefenderReport['endings'] = []
  for (let by = 0; by < ENDED_BY.length; by++) {
    for (let reason = 0; reason < END_REASONS.length; reason++) {
      const count = state.endings[by * END_REASONS.length + reason]!
      if (count > 0) endings.push({by: ENDED_BY[by]!, reason: END_REASONS[reason]!, count})
    }
  }
  const sessions = state.sessions()
  const report: DefenderReport & {checks: CheckResult[]} = {
    identity,
    connections: state.connections,
    firstSeen: isoTime(state.firstTs),
    lastSeen: isoTime(state.lastTs),
    failedChecks,
    reconnects: state.connections - 1,
    endings,
    sessions,
    checks: [],
    verdict: VERDICTS[state.worst]!,
  }
  if (state.lastGoodTs !== -Infinity) report.lastGoodHandshake = isoTime(state.lastGoodTs)
  const lifetime = state.lifetime.stats(state.keptValues('lifetime'))
  if (lifetime !== undefined) report.sessionLifetime = lifetime
  const gap = state.gap.stats(state.keptValues(F_GAP))
  if (gap !== undefined) report.reconnectGap = gap
  if (state.added > sessions.length) report.truncated = {sessions: state.added - sessions.length}
  if (state.pingInterval !== Infinity) report.pingIntervalSeconds = round3(state.pingInterval)
  const concurrent = concurrentEstablished(sessions)
  if (concurrent > 1) report.concurrentSessions = concurrent
  if (state.stormAttempts > 0) {
    report.storm = {attempts: state.stormAttempts, from: isoTime(state.stormFrom), to: isoTime(state.stormTo), seconds: round3(state.stormTo - state.stormFrom)}
  }
  if (observedUntil !== undefined) report.observedUntil = observedUntil
  return report
}

/** Most established sessions open at once, counting only overlaps of at least CONCURRENT_OVERLAP_S. */
function concurrentEstablished(sessions: DefenderSession[]): number {
  const spans: Array<[number, number]> = []
  for (const s of sessions) if (s.established) spans.push([Date.parse(s.startedAt) / 1000, Date.parse(s.endedAt) / 1000])
  let most = spans.length === 0 ? 0 : 1
  for (let i = 0; i < spans.length; i++) {
    let open = 1
    for (let j = 0; j < spans.length; j++) {
      if (i !== j && Math.min(spans[i]![1], spans[j]![1]) - Math.max(spans[i]![0], spans[j]![0]) >= CONCURRENT_OVERLAP_S && spans[j]![0] <= spans[i]![0]) open++
    }
    if (open > most) most = open
  }
  return most
}

/**
 * Duplicate identities across Defenders: one client address with several client certificates
 * (several Defenders behind one address, or one host with two identities), and one client
 * certificate from several addresses while both were connected (two hosts with one identity).
 */
function noteCollisions(states: DefenderState[], reports: DefenderReport[]): void {
  const byIp = new Map<string, number[]>()
  const byFingerprint = new Map<string, number[]>()
  states.forEach((state, i) => {
    if (state.subject === undefined) return
    const ip = byIp.get(state.ip)
    if (ip === undefined) byIp.set(state.ip, [i])
    else ip.push(i)
    if (state.fingerprint !== undefined) {
      const same = byFingerprint.get(state.fingerprint)
      if (same === undefined) byFingerprint.set(state.fingerprint, [i])
      else same.push(i)
    }
  })
  const peerOf = (i: number): DefenderPeer => {
    const peer: DefenderPeer = {key: reports[i]!.identity.key, clientIp: states[i]!.ip}
    if (states[i]!.subject !== undefined) peer.certificateSubject = states[i]!.subject
    return peer
  }
  for (const group of byIp.values()) {
    if (group.length < 2) continue
    for (const i of group) {
      const others = group.filter((j) => j !== i && states[j]!.fingerprint !== states[i]!.fingerprint)
      if (others.length > 0) reports[i]!.sameAddress = others.map(peerOf)
    }
  }
  for (const group of byFingerprint.values()) {
    if (group.length < 2) continue
    for (const i of group) {
      const a = states[i]!
      const others = group.filter((j) => j !== i && states[j]!.ip !== a.ip && Math.min(a.lastTs, states[j]!.lastTs) > Math.max(a.firstTs, states[j]!.firstTs))
      if (others.length > 0) reports[i]!.sameCertificate = others.map(peerOf)
    }
  }
}

/**
 * What the view needs of one decided connection, computed where it was decided: a shard of a
 * sharded analysis (src/shards/) sends this instead of the connection's facts, and the view is
 * built from these in the order the connections were decided (DefenderViewBuilder.addInput).
 */
export interface DefenderInput {
  ip: string
  subject?: string
  sni?: string
  /** The client certificate's SHA-256, when it has a subject. */
  fingerprint?: string
  numbers: SessionNumbers
}

export function defenderInputOf(facts: ConnectionFacts, checks: readonly CheckResult[], verdict: ConnectionVerdict, lastDataTs: number | undefined, captureEndTs: number): DefenderInput {
  const tls = facts.tls
  const certificate = tls?.clientCertificate?.certificates[0]
  const subject = certificate?.subject
  const numbers: SessionNumbers = {start: 0, end: 0, established: false, idle: 0, reason: 0, by: 0, wsCode: 0, frame: 0, verdict: 0, failed: 0, goodHandshake: 0, pingInterval: 0}
  sessionNumbers(numbers, facts, checks, verdict, lastDataTs, captureEndTs)
  return {ip: facts.client.ip, subject: subject || undefined, sni: tls?.clientHellos[0]?.sni, fingerprint: subject ? certificate!.sha256 : undefined, numbers}
}

/** Fills `n` with what connection `facts` adds to its Defender. */
function sessionNumbers(n: SessionNumbers, facts: ConnectionFacts, checks: readonly CheckResult[], verdict: ConnectionVerdict, lastDataTs: number | undefined, captureEndTs: number): void {
  const tcp = facts.tcp
  let failed = 0
  let upgrade: CheckStatus | undefined
  for (const check of checks) {
    const index = CHECK_INDEX.get(check.id)
    if (index === undefined) continue
    if (check.status === 'fail') failed |= 1 << index
    if (index === WS_UPGRADE) upgrade = check.status
  }
  n.failed = failed
  n.verdict = VERDICT_RANK[verdict]
  n.start = tcp.startTs
  n.goodHandshake = Number.NaN
  n.pingInterval = Infinity
  n.wsCode = Number.NaN
  n.frame = Number.NaN
  n.idle = Number.NaN
  // Established: the upgrade was answered 101 (pass), or, without keys, answered and not refused
  // (model/defenders.ts: application data flowed both ways after the handshake).
  const flow = derivedOf(facts).upgradeFlow
  const answered = flow !== undefined && flow.answer.length > 0
  // A capture that starts mid-session (no SYN) with data both ways: held since before the capture.
  const heldBefore = !tcp.sawOpening && tcp.c2s.deliveredBytes > 0 && tcp.s2c.deliveredBytes > 0 && verdict !== 'fail'
  const established = upgrade === 'pass' || (upgrade === 'warn' && answered) || heldBefore
  n.established = established
  if (established) {
    const response = facts.http?.response
    n.goodHandshake = response !== undefined ? response.ts : answered ? flow!.answer[flow!.answer.length - 1]!.ts : tcp.startTs
  }
  const ws = facts.ws
  if (ws !== undefined) n.pingInterval = pingInterval(ws.pings)
  // How it ended: a WebSocket close frame, else the first RST or FIN, else still open.
  const close = ws?.closedBy === undefined ? undefined : ws.close[ws.closedBy]
  const rst = tcp.rst[0]
  const fin = tcp.fin[0]
  const flag = rst !== undefined && (fin === undefined || rst.frame <= fin.frame) ? rst : fin
  let endTs: number
  if (close !== undefined) {
    n.reason = R_WS_CLOSE
    n.by = close.from === 'client' ? BY_CLIENT : BY_SERVER
    if (close.code !== undefined) n.wsCode = close.code
    n.frame = close.frame
    endTs = close.ts
  } else if (flag !== undefined) {
    n.reason = flag === rst ? R_RST : R_FIN
    n.by = flag.from === 'client' ? BY_CLIENT : BY_SERVER
    n.frame = flag.frame
    endTs = flag.ts
  } else {
    n.reason = R_CAPTURE_END
    n.by = BY_OPEN
    endTs = Math.max(captureEndTs, tcp.endTs)
  }
  if (!established && n.by !== BY_OPEN) {
    const fatal = facts.tls?.alerts.find((a) => a.level === 2)
    if (fatal !== undefined) {
      n.reason = R_TLS_ALERT
      n.by = fatal.from === 'client' ? BY_CLIENT : BY_SERVER
      n.frame = fatal.frame
    } else if (verdict === 'fail') {
      n.reason = R_REFUSED
    }
  }
  if (n.by === BY_OPEN && !established && tcp.c2s.deliveredBytes === 0 && tcp.s2c.deliveredBytes === 0 && tcp.ack === undefined) {
    // A SYN nobody answered is not a session held open.
    n.reason = verdict === 'fail' ? R_REFUSED : R_UNKNOWN
    n.by = BY_UNKNOWN
    endTs = tcp.endTs
  }
  n.end = endTs
  if (lastDataTs !== undefined && n.by !== BY_OPEN && endTs >= lastDataTs) n.idle = endTs - lastDataTs
}

/** Shortest interval between two consecutive pings from the same side (seconds), or Infinity. */
function pingInterval(pings: ReadonlyArray<{from: string; ts: number}>): number {
  let shortest = Infinity
  let client = Number.NaN
  let server = Number.NaN
  for (const ping of pings) {
    if (ping.from === 'client') {
      if (ping.ts - client < shortest) shortest = ping.ts - client
      client = ping.ts
    } else {
      if (ping.ts - server < shortest) shortest = ping.ts - server
      server = ping.ts
    }
  }
  return shortest
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
