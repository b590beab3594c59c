/**
 * Per-Defender views (model/defenders.ts) for the renderer tests: report objects, built here the
 * way analysis/ fills them (the counters, durations and endings are computed from the sessions,
 * so they agree with each other). Each Defender follows one of the patterns issue 18 names, so
 * every way a session can end appears: a healthy long session, sessions cut by an RST from the
 * path at a regular lifetime, a reconnect storm of refused upgrades, a Defender that stops, the
 * Console closing (FIN, WebSocket close 1001), a fatal TLS alert. Deterministic.
 */
import type {CheckResult, CheckId, ConnectionVerdict} from '../../src/model/checks.js'
import type {DefenderReport, DefenderSession, DefenderView, DurationStats, SessionEndReason, SessionEndedBy} from '../../src/model/defenders.js'
import {AWKWARD_SUMMARY, sampleReport} from './sample-report.js'
import type {CaptureReport} from '../../src/model/report.js'

/** 2026-01-15T10:00:00Z, the start of every sample capture. */
export const CAPTURE_START_MS = Date.UTC(2026, 0, 15, 10, 0, 0)
/** Ten minutes of capture. */
export const CAPTURE_SECONDS = 600

export const PATTERNS = ['healthy', 'idle-cut', 'storm', 'stopped', 'console-closes', 'tls-alert'] as const
export type Pattern = (typeof PATTERNS)[number]

const iso = (seconds: number) => new Date(CAPTURE_START_MS + Math.round(seconds * 1000)).toISOString()

function stats(values: number[]): DurationStats | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return {count: sorted.length, min: sorted[0], median, max: sorted[sorted.length - 1]}
}

interface Ending {
  reason: SessionEndReason
  by: SessionEndedBy
  wsCloseCode?: number
}

let nextConnection = 1

function session(start: number, end: number, established: boolean, ending: Ending, failedChecks: CheckId[] = [], idle?: number): DefenderSession {
  const verdict: ConnectionVerdict = failedChecks.length > 0 ? 'fail' : 'pass'
  return {
    connection: nextConnection++,
    startedAt: iso(start),
    endedAt: iso(end),
    durationSeconds: Math.round((end - start) * 1000) / 1000,
    established,
    ...(idle !== undefined ? {idleBeforeEndSeconds: idle} : {}),
    end: {reason: ending.reason, by: ending.by, confidence: ending.by === 'path' ? 'inferred' : 'observed', ...(ending.wsCloseCode !== undefined ? {wsCloseCode: ending.wsCloseCode} : {})},
    verdict,
    failedChecks,
  }
}

/** The sessions of one Defender following `pattern`, starting `offset` seconds into the capture. */
function sessionsOf(pattern: Pattern, offset: number): DefenderSession[] {
  const out: DefenderSession[] = []
  switch (pattern) {
    case 'healthy':
      out.push(session(offset, offset + 90, true, {reason: 'fin', by: 'client'}))
      out.push(session(offset + 95, CAPTURE_SECONDS, true, {reason: 'capture-end', by: 'open'}))
      break
    case 'idle-cut':
      // A relay cuts idle sessions after 60 s: shorter than a 90-s ping interval.
      for (let t = offset; t + 60 < CAPTURE_SECONDS; t += 63) out.push(session(t, t + 60, true, {reason: 'rst', by: 'path'}, [], 58.5))
      break
    case 'storm':
      // The upgrade refused (403), the Defender retrying every 4 s.
      for (let t = offset; t + 0.2 < CAPTURE_SECONDS && out.length < 150; t += 4) out.push(session(t, t + 0.2, false, {reason: 'fin', by: 'server'}, ['ws.upgrade']))
      break
    case 'stopped':
      for (let k = 0; k < 3; k++) out.push(session(offset + k * 40, offset + k * 40 + 30, true, {reason: 'fin', by: 'client'}))
      break
    case 'console-closes':
      out.push(session(offset, offset + 200, true, {reason: 'ws-close', by: 'server', wsCloseCode: 1001}))
      out.push(session(offset + 210, offset + 380, true, {reason: 'fin', by: 'server'}))
      out.push(session(offset + 385, CAPTURE_SECONDS, true, {reason: 'capture-end', by: 'open'}))
      break
    case 'tls-alert':
      for (let t = offset; t < CAPTURE_SECONDS - 1 && out.length < 20; t += 30) out.push(session(t, t + 0.05, false, {reason: 'tls-alert', by: 'server'}, ['tls.client-certificate', 'tls.alerts']))
      break
  }
  return out
}

const STABILITY: Record<Pattern, Pick<CheckResult, 'status' | 'summary' | 'hint'>> = {
  healthy: {status: 'pass', summary: 'one reconnect after a client close; the session held to the end of the capture'},
  'idle-cut': {status: 'fail', summary: 'sessions cut by an RST from the path after 60 s idle, every time; the ping interval is 90 s', hint: 'an idle timeout of 60 s between Defender and Console is shorter than the ping interval: raise it above 90 s'},
  storm: {status: 'fail', summary: 'reconnect storm: an attempt every 4 s, each refused (ws.upgrade)', hint: 'fix the refused upgrade (ws.upgrade); the storm follows from it'},
  stopped: {status: 'warn', summary: 'stopped reconnecting: no attempt in the last minutes of the capture after a client close'},
  'console-closes': {status: 'pass', summary: 'the Console closed two sessions (WebSocket 1001, FIN); the Defender reconnected at once'},
  'tls-alert': {status: 'fail', summary: 'every handshake ends in a fatal alert from the Console', hint: 'the Console rejects the client certificate (tls.client-certificate)'},
}

const RANK: Record<ConnectionVerdict, number> = {skip: 0, pass: 1, warn: 2, inconclusive: 3, fail: 4}

/** One Defender's report from its sessions, as analysis/ would make it. */
export function defenderReport(index: number, pattern: Pattern, options: {offset?: number; subject?: string; sessionsCap?: number} = {}): DefenderReport {
  const clientIp = `10.20.${(index >> 8) & 0xff}.${index & 0xff}`
  const all = sessionsOf(pattern, options.offset ?? (index * 7) % 45)
  const failed = new Map<CheckId, number>()
  for (const s of all) for (const id of s.failedChecks) failed.set(id, (failed.get(id) ?? 0) + 1)
  const endings = new Map<string, {by: SessionEndedBy; reason: SessionEndReason; count: number}>()
  for (const s of all) {
    const key = `${s.end.by}/${s.end.reason}`
    const entry = endings.get(key) ?? {by: s.end.by, reason: s.end.reason, count: 0}
    entry.count++
    endings.set(key, entry)
  }
  const ended = all.filter((s) => s.established && s.end.by !== 'open')
  const gaps = all.slice(1).map((s, k) => (Date.parse(s.startedAt) - Date.parse(all[k].endedAt)) / 1000)
  const good = all.filter((s) => s.established)
  const stability: CheckResult = {id: 'channel.stability', confidence: 'inferred', evidence: {frames: [], values: {sessions: all.length}}, ...STABILITY[pattern]}
  const verdict = [stability.status, ...all.map((s) => s.verdict)].reduce<ConnectionVerdict>((worst, v) => (RANK[v] > RANK[worst] ? v : worst), 'pass')
  const cap = options.sessionsCap ?? 32
  const kept = all.slice(-cap)
  const report: DefenderReport = {
    identity: {
      key: options.subject !== undefined ? `${clientIp} ${options.subject}` : clientIp,
      clientIp,
      ...(options.subject !== undefined ? {certificateSubject: options.subject} : {}),
      sni: 'console.test',
    },
    connections: all.length,
    firstSeen: all[0].startedAt,
    lastSeen: all[all.length - 1].endedAt,
    ...(good.length > 0 ? {lastGoodHandshake: good[good.length - 1].startedAt} : {}),
    failedChecks: [...failed].map(([id, count]) => ({id, count})),
    reconnects: all.length - 1,
    ...(stats(ended.map((s) => s.durationSeconds)) ? {sessionLifetime: stats(ended.map((s) => s.durationSeconds))} : {}),
    ...(stats(gaps) ? {reconnectGap: stats(gaps)} : {}),
    endings: [...endings.values()],
    sessions: kept,
    checks: [stability],
    verdict,
  }
  if (kept.length < all.length) report.truncated = {sessions: all.length - kept.length}
  return report
}

/** `count` Defenders cycling through the patterns (the first one's certificate subject has the characters outputs must escape). */
export function sampleDefenderView(count: number): DefenderView {
  nextConnection = 1
  const defenders: DefenderReport[] = []
  for (let i = 0; i < count; i++) {
    const pattern = PATTERNS[i % PATTERNS.length]
    defenders.push(defenderReport(i + 1, pattern, i === 0 ? {subject: `CN=${AWKWARD_SUMMARY}`} : {}))
  }
  return {defenders, overflow: 0, limit: 10_000}
}

/** The renderers' sample report with a per-Defender view of `count` Defenders. */
export function sampleReportWithDefenders(count: number): CaptureReport {
  const report = sampleReport()
  report.defenders = sampleDefenderView(count)
  // The capture's span is the Defenders' (the sample's two connections keep their own times).
  report.source.firstTs = iso(0)
  report.source.lastTs = iso(CAPTURE_SECONDS)
  return report
}
