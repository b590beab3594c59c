/**
 * `watch`'s record of its own sessions, as the per-Defender view (model/defenders.ts) with one
 * Defender: this host. Memory is flat however long it runs: counters, running min/max, the
 * endings by (by, reason), and the last MAX_WATCH_SESSIONS sessions (the median of lifetimes and
 * of reconnect gaps rests on those; `truncated.sessions` counts the older ones).
 */
import {checkChannelStability} from '../../checks/channel-stability.js'
import {worstStatus} from '../../checks/index.js'
import {MAX_WATCH_SESSIONS} from '../../limits.js'
import {countOmitted} from '../../lists.js'
import type {CheckId, ConnectionVerdict} from '../../model/checks.js'
import type {DefenderIdentity, DefenderReport, DefenderSession, DefenderView, DurationStats, SessionEndedBy, SessionEndReason} from '../../model/defenders.js'
import type {Policy} from '../../model/policy.js'

interface RunningStats {
  count: number
  min: number
  max: number
  /** The most recent values, for the median. */
  recent: number[]
}

const VERDICT_RANK: Record<ConnectionVerdict, number> = {pass: 0, skip: 0, inconclusive: 1, warn: 2, fail: 3}

export class SessionHistory {
  private readonly sessions: DefenderSession[] = []
  private omitted = 0
  private connections = 0
  private firstSeen: string | undefined
  private lastSeen: string | undefined
  private lastGoodHandshake: string | undefined
  private lastEndMs: number | undefined
  private readonly failed = new Map<CheckId, number>()
  private readonly endings = new Map<string, {by: SessionEndedBy; reason: SessionEndReason; count: number}>()
  private readonly lifetime: RunningStats = {count: 0, min: Infinity, max: -Infinity, recent: []}
  private readonly gap: RunningStats = {count: 0, min: Infinity, max: -Infinity, recent: []}

  constructor(
    private identity: DefenderIdentity,
    private readonly cap: number = MAX_WATCH_SESSIONS,
    /** watch's --ping-interval, told to channel.stability. */
    private readonly pingIntervalSeconds?: number,
  ) {}

  /** The identity learned from a handshake (the client address, the certificate's subject). */
  setIdentity(identity: DefenderIdentity): void {
    this.identity = identity
  }

  /** Sessions recorded, including those no longer kept. */
  get count(): number {
    return this.connections
  }

  record(session: DefenderSession): void {
    this.connections++
    this.firstSeen ??= session.startedAt
    this.lastSeen = session.endedAt
    const startMs = Date.parse(session.startedAt)
    if (this.lastEndMs !== undefined) push(this.gap, Math.max(0, (startMs - this.lastEndMs) / 1000), this.cap)
    this.lastEndMs = Date.parse(session.endedAt)
    if (session.established) {
      this.lastGoodHandshake = session.startedAt
      // A session still open when watch stops did not end by itself: its lifetime says nothing of the channel.
      if (!(session.end.by === 'client' && session.end.reason === 'ws-close')) push(this.lifetime, session.durationSeconds, this.cap)
    }
    for (const id of session.failedChecks) this.failed.set(id, (this.failed.get(id) ?? 0) + 1)
    const key = `${session.end.by}/${session.end.reason}`
    const ending = this.endings.get(key)
    if (ending) ending.count++
    else this.endings.set(key, {by: session.end.by, reason: session.end.reason, count: 1})
    this.sessions.push(session)
    if (this.sessions.length > this.cap) {
      this.sessions.shift()
      this.omitted++
    }
  }

  /** The view, with `channel.stability` judged by the shared check (checks/channel-stability.ts). */
  view(policy: Policy): DefenderView {
    const now = new Date().toISOString()
    const input: Omit<DefenderReport, 'checks' | 'verdict'> = {
      identity: this.identity,
      connections: this.connections,
      firstSeen: this.firstSeen ?? now,
      lastSeen: this.lastSeen ?? now,
      failedChecks: [...this.failed].map(([id, count]) => ({id, count})),
      reconnects: Math.max(0, this.connections - 1),
      endings: [...this.endings.values()].map((e) => ({...e})),
      sessions: [...this.sessions],
    }
    if (this.pingIntervalSeconds !== undefined) input.pingIntervalSeconds = this.pingIntervalSeconds
    if (this.lastGoodHandshake !== undefined) input.lastGoodHandshake = this.lastGoodHandshake
    const lifetime = statsOf(this.lifetime)
    if (lifetime) input.sessionLifetime = lifetime
    const gap = statsOf(this.gap)
    if (gap) input.reconnectGap = gap
    if (this.omitted > 0) countOmitted(input, 'sessions', this.omitted)
    const stability = checkChannelStability(input, policy)
    const sessionsVerdict = this.sessions.reduce<ConnectionVerdict>((worst, s) => (VERDICT_RANK[s.verdict] > VERDICT_RANK[worst] ? s.verdict : worst), 'pass')
    const checksVerdict = worstStatus([stability])
    const verdict = VERDICT_RANK[checksVerdict] > VERDICT_RANK[sessionsVerdict] ? checksVerdict : sessionsVerdict
    return {defenders: [{...input, checks: [stability], verdict}], overflow: 0, limit: 1}
  }
}

function push(stats: RunningStats, value: number, cap: number): void {
  stats.count++
  stats.min = Math.min(stats.min, value)
  stats.max = Math.max(stats.max, value)
  stats.recent.push(value)
  if (stats.recent.length > cap) stats.recent.shift()
}

function statsOf(stats: RunningStats): DurationStats | undefined {
  if (stats.count === 0) return undefined
  const sorted = [...stats.recent].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return {count: stats.count, min: stats.min, median: Math.round(median * 1000) / 1000, max: stats.max}
}
