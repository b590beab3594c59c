/**
 * `channel.stability`, per Defender across its connections (DESIGN.md, check catalogue): no
 * idle-timeout cuts, reconnect storms, silent stops or duplicate identities. Judged from the
 * per-Defender view (analysis/defenders.ts): the Defender's most recent sessions, its counters and
 * what the view found across Defenders (sameAddress, sameCertificate). Pure: report in, result out.
 *
 * Findings, worst first:
 * - idle cuts: established sessions ended by an RST or FIN from the Console's side (the Console,
 *   or a load balancer, proxy or relay in between: on the wire they look the same) after the same
 *   idle time, at least `idleCutSessions` of them: an idle timeout shorter than the Defender's
 *   ping interval (both durations said);
 * - a reconnect storm: more than `stormAttempts` attempts within `stormWindowSeconds`, naming the
 *   failing check that drives it;
 * - a stop: the last session ended `stoppedAfterSeconds` or more before the capture did, and the
 *   Defender never tried again;
 * - duplicate identities: one client certificate from several addresses at once (fail: the
 *   Console sees one Defender flapping between hosts), several certificates on one address or two
 *   sessions at once from one Defender (warn: several Defenders behind NAT, or a duplicate).
 */
import type {CheckId, CheckResult, CheckStatus, Confidence} from '../model/checks.js'
import type {DefenderReport, DefenderSession} from '../model/defenders.js'
import {stabilityOf, type Policy} from '../model/policy.js'

export type StabilityInput = Omit<DefenderReport, 'checks' | 'verdict'>

const ID = 'channel.stability'
/** Cut sessions whose idle time is within this of the median are "the same" idle time (seconds, or IDLE_SPREAD_RATIO of it). */
const IDLE_SPREAD_S = 0.25
const IDLE_SPREAD_RATIO = 0.1
/** A session idle less than this before its end was not cut for being idle. */
const MIN_IDLE_S = 0.5

interface Finding {
  status: CheckStatus
  confidence: Confidence
  text: string
  hint: string
  frames: number[]
  values: Record<string, unknown>
}

export function checkChannelStability(defender: StabilityInput, policy: Policy): CheckResult {
  const thresholds = stabilityOf(policy)
  const findings: Finding[] = []
  const sessions = defender.sessions
  const cuts = idleCuts(sessions, thresholds.idleCutSessions, defender.pingIntervalSeconds)
  if (cuts) findings.push(cuts)
  const storm = stormFinding(defender, thresholds.stormAttempts, thresholds.stormWindowSeconds)
  if (storm) findings.push(storm)
  const stop = stopFinding(defender, thresholds.stoppedAfterSeconds)
  if (stop) findings.push(stop)
  const identity = identityFindings(defender)
  for (const finding of identity) findings.push(finding)
  const established = sessions.filter((s) => s.established).length
  if (findings.length === 0) {
    if (established === 0) {
      return {
        id: ID,
        status: 'skip',
        confidence: 'observed',
        summary: `${count(defender.connections, 'connection')}, none established a session: nothing to judge the channel's stability by (see the connections' checks${failedText(defender)})`,
        evidence: {frames: [], values: {connections: defender.connections}},
      }
    }
    const open = sessions.filter((s) => s.end.by === 'open').length
    return {
      id: ID,
      status: 'pass',
      confidence: 'inferred',
      summary:
        `${count(defender.connections, 'connection')}, ${count(defender.reconnects, 'reconnect')}: no session cut after a regular idle time, no reconnect storm` +
        `${open > 0 ? `, a session still open when the capture ended` : ''}, no duplicate identity seen`,
      evidence: {frames: [], values: {connections: defender.connections, reconnects: defender.reconnects, established}},
    }
  }
  findings.sort((a, b) => rank(b.status) - rank(a.status))
  const worst = findings[0]!
  const frames = [...new Set(findings.flatMap((f) => f.frames))].sort((a, b) => a - b).slice(0, 32)
  const values: Record<string, unknown> = {}
  for (const f of findings) Object.assign(values, f.values)
  return {
    id: ID,
    status: worst.status,
    confidence: findings.every((f) => f.confidence === 'observed') ? 'observed' : 'inferred',
    summary: findings.map((f) => f.text).join('; '),
    evidence: {frames, values},
    hint: findings.map((f) => f.hint).join('; '),
  }
}

/** Established sessions the Console's side ended by RST or FIN after the same idle time. */
function idleCuts(sessions: DefenderSession[], minimum: number, pingInterval: number | undefined): Finding | undefined {
  const cut = sessions.filter(
    (s) => s.established && s.end.by === 'server' && (s.end.reason === 'rst' || s.end.reason === 'fin') && s.idleBeforeEndSeconds !== undefined && s.idleBeforeEndSeconds >= MIN_IDLE_S,
  )
  if (cut.length < minimum) return undefined
  const idle = median(cut.map((s) => s.idleBeforeEndSeconds!))
  const spread = Math.max(IDLE_SPREAD_S, idle * IDLE_SPREAD_RATIO)
  const regular = cut.filter((s) => Math.abs(s.idleBeforeEndSeconds! - idle) <= spread)
  if (regular.length < minimum) return undefined
  const idles = regular.map((s) => s.idleBeforeEndSeconds!)
  const lifetimes = regular.map((s) => s.durationSeconds)
  const rst = regular.filter((s) => s.end.reason === 'rst').length
  const how = rst === regular.length ? 'reset (RST)' : rst === 0 ? 'closed (FIN)' : `reset (RST, ${rst}) or closed (FIN, ${regular.length - rst})`
  const ping =
    pingInterval !== undefined
      ? pingInterval > idle
        ? `; the Defender pings every ${seconds(pingInterval)}, longer than that`
        : `; pings every ${seconds(pingInterval)} were seen on other sessions`
      : `; no ping or other data came in the ${seconds(Math.min(...idles))} before any cut, so the Defender's ping interval is longer than the idle timeout`
  const timeout = `an idle timeout of about ${seconds(idle)}`
  return {
    status: 'fail',
    confidence: 'inferred',
    text:
      `${regular.length} of ${count(sessions.filter((s) => s.established).length, "established session")} ${how} by the Console's side (the Console or a device in between) ` +
      `after ${range(idles)} idle each (lifetimes ${range(lifetimes)}): ${timeout} between the Defender and the Console cuts the channel${ping}`,
    hint: `find the idle timeout of about ${seconds(idle)} between the Defender and the Console (load balancer, proxy, firewall or NAT) and raise it above the Defender's ping interval, or make the Defender ping more often than every ${seconds(idle)}`,
    frames: regular.flatMap((s) => (s.end.frame === undefined ? [] : [s.end.frame])),
    values: {idleCuts: regular.length, idleTimeoutSeconds: round3(idle), idleBeforeCutSeconds: {min: round3(Math.min(...idles)), max: round3(Math.max(...idles))}, ...(pingInterval === undefined ? {} : {pingIntervalSeconds: pingInterval})},
  }
}

function stormFinding(defender: StabilityInput, attempts: number, window: number): Finding | undefined {
  const storm = defender.storm
  if (storm === undefined) return undefined
  const inStorm = defender.sessions.filter((s) => s.startedAt >= storm.from && s.startedAt <= storm.to)
  const driver = mostFailed(inStorm) ?? mostFailedOverall(defender)
  const failedIn = driver === undefined ? 0 : inStorm.filter((s) => s.failedChecks.includes(driver)).length
  const drivenBy =
    driver === undefined
      ? 'no check failed on them: the sessions themselves end (see how they ended)'
      : `${driver} failed on ${failedIn} of the ${count(inStorm.length, 'attempt')} kept from it`
  return {
    status: 'fail',
    confidence: 'observed',
    text: `reconnect storm: ${storm.attempts} attempts in ${seconds(storm.seconds)} (${storm.from} to ${storm.to}), more than ${attempts} within ${seconds(window)}; driven by ${drivenBy}`,
    hint: driver === undefined ? 'the Defender reconnects as fast as its sessions end: see why they end (idle cuts, resets)' : `fix what fails ${driver} (see its hint on the connections): the Defender retries as long as it fails`,
    frames: [],
    values: {stormAttempts: storm.attempts, stormSeconds: storm.seconds, ...(driver === undefined ? {} : {stormFailedCheck: driver})},
  }
}

function stopFinding(defender: StabilityInput, after: number): Finding | undefined {
  const last = defender.sessions[defender.sessions.length - 1]
  if (last === undefined || defender.observedUntil === undefined || last.end.by === 'open') return undefined
  // The latest attempt (by start) ended, and nothing came after it.
  const ended = Date.parse(last.endedAt)
  const silent = (Date.parse(defender.observedUntil) - ended) / 1000
  if (!(silent >= after)) return undefined
  const how = `${last.end.reason === 'ws-close' ? `a WebSocket close${last.end.wsCloseCode === undefined ? '' : ` ${last.end.wsCloseCode}`}` : last.end.reason === 'rst' ? 'an RST' : last.end.reason === 'fin' ? 'a FIN' : last.end.reason} from the ${last.end.by}`
  return {
    status: 'fail',
    confidence: 'inferred',
    text: `stopped reconnecting: its last session (connection #${last.connection}) ended with ${how} at ${last.endedAt}, and no attempt followed in the ${seconds(silent)} until the capture ended (threshold ${seconds(after)})`,
    hint:
      last.end.by === 'client'
        ? 'the Defender closed its own session and did not come back: check that the Defender process is running on its host (its logs, a crash, a stop)'
        : 'the Defender did not reconnect after the Console\'s side ended its session: check the Defender on its host (its logs), and whether its address still routes to the Console',
    frames: last.end.frame === undefined ? [] : [last.end.frame],
    values: {silentSeconds: round3(silent)},
  }
}

function identityFindings(defender: StabilityInput): Finding[] {
  const findings: Finding[] = []
  if (defender.sameCertificate !== undefined && defender.sameCertificate.length > 0) {
    const others = defender.sameCertificate.map((p) => p.clientIp)
    findings.push({
      status: 'fail',
      confidence: 'observed',
      text: `duplicate identity: the client certificate ${defender.identity.certificateSubject ?? ''} (${defender.identity.certificateFingerprint ?? 'same fingerprint'}) was also presented from ${others.join(', ')} while this Defender was connected`,
      hint: 'two hosts use one Defender identity (a cloned VM or a copied certificate directory, or duplicate host names): give each host its own Defender (redeploy it)',
      frames: [],
      values: {sameCertificateFrom: others},
    })
  }
  if (defender.sameAddress !== undefined && defender.sameAddress.length > 0) {
    const others = defender.sameAddress.map((p) => p.certificateSubject ?? p.key)
    findings.push({
      status: 'warn',
      confidence: 'observed',
      text: `${defender.identity.clientIp} also presented ${others.length === 1 ? 'another client certificate' : `${others.length} other client certificates`} (${others.join('; ')}): several Defenders behind one address`,
      hint: 'expected behind NAT or a proxy; otherwise one host runs two Defender identities',
      frames: [],
      values: {sameAddressCertificates: others},
    })
  }
  if (defender.concurrentSessions !== undefined && defender.concurrentSessions > 1 && (defender.sameAddress === undefined || defender.sameAddress.length === 0)) {
    findings.push({
      status: 'warn',
      confidence: 'inferred',
      text: `${defender.concurrentSessions} sessions held at once from ${defender.identity.clientIp}${defender.identity.certificateSubject === undefined ? '' : ` with one certificate`}: a Defender holds one channel, so these are several Defenders behind one address (or one identity used twice)`,
      hint: defender.identity.certificateSubject === undefined ? 'give --keylog to read the client certificates and tell the Defenders apart' : 'two Defenders share one identity behind this address: give each its own (redeploy)',
      frames: [],
      values: {concurrentSessions: defender.concurrentSessions},
    })
  }
  return findings
}

/** The check that failed on most of `sessions`, or undefined. */
function mostFailed(sessions: DefenderSession[]): CheckId | undefined {
  const counts = new Map<CheckId, number>()
  for (const s of sessions) for (const id of s.failedChecks) counts.set(id, (counts.get(id) ?? 0) + 1)
  let best: CheckId | undefined
  let most = 0
  for (const [id, n] of counts) if (n > most) [best, most] = [id, n]
  return best
}

function mostFailedOverall(defender: StabilityInput): CheckId | undefined {
  let best: CheckId | undefined
  let most = 0
  for (const {id, count: n} of defender.failedChecks) if (n > most) [best, most] = [id, n]
  return best
}

function failedText(defender: StabilityInput): string {
  if (defender.failedChecks.length === 0) return ''
  return `: ${defender.failedChecks.map((f) => `${f.id} failed on ${f.count}`).join(', ')}`
}

function rank(status: CheckStatus): number {
  return status === 'fail' ? 3 : status === 'warn' ? 2 : status === 'pass' ? 1 : 0
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function range(values: number[]): string {
  const min = Math.min(...values)
  const max = Math.max(...values)
  return min.toFixed(1) === max.toFixed(1) ? seconds(min) : `${min.toFixed(1)}-${seconds(max)}`
}

function seconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}
