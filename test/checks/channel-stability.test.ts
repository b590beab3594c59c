/**
 * channel.stability (checks/channel-stability.ts) on hand-made per-Defender reports: each finding,
 * its evidence and hint, the thresholds from the policy, and what is not a finding.
 */
import {describe, expect, it} from 'vitest'
import {checkChannelStability, type StabilityInput} from '../../src/checks/channel-stability.js'
import type {DefenderSession} from '../../src/model/defenders.js'
import type {Policy} from '../../src/model/policy.js'

const T0 = Date.parse('2026-12-01T10:00:00.000Z')
const iso = (s: number) => new Date(T0 + s * 1000).toISOString()
const POLICY: Policy = {ports: [8084]}

function session(connection: number, start: number, end: number, extra: Partial<DefenderSession> & {by?: DefenderSession['end']['by']; reason?: DefenderSession['end']['reason']} = {}): DefenderSession {
  const {by = 'server', reason = 'rst', ...rest} = extra
  return {connection, startedAt: iso(start), endedAt: iso(end), durationSeconds: end - start, established: true, end: {reason, by, confidence: 'observed', frame: connection * 10}, verdict: 'fail', failedChecks: [], ...rest}
}

function defender(sessions: DefenderSession[], extra: Partial<StabilityInput> = {}): StabilityInput {
  return {
    identity: {key: '10.0.0.1', clientIp: '10.0.0.1'},
    connections: sessions.length,
    firstSeen: sessions[0]!.startedAt,
    lastSeen: sessions[sessions.length - 1]!.endedAt,
    failedChecks: [],
    reconnects: sessions.length - 1,
    endings: [],
    sessions,
    observedUntil: iso(1000),
    ...extra,
  }
}

/** n sessions cut by the server after `idle` s of silence, 0.5 s into each, reconnecting 1 s later. */
function cuts(n: number, idle: (i: number) => number, last: 'open' | 'cut' = 'open'): DefenderSession[] {
  const sessions: DefenderSession[] = []
  let t = 0
  for (let i = 0; i < n; i++) {
    sessions.push(session(i + 1, t, t + 0.5 + idle(i), {idleBeforeEndSeconds: idle(i)}))
    t += 0.5 + idle(i) + 1
  }
  if (last === 'open') sessions.push(session(n + 1, t, 1000, {by: 'open', reason: 'capture-end', verdict: 'pass'}))
  return sessions
}

describe('channel.stability', () => {
  it('sessions cut after the same idle time: an idle timeout, both durations said', () => {
    const result = checkChannelStability(defender(cuts(4, (i) => 60 + i * 0.1)), POLICY)
    expect(result.status).toBe('fail')
    expect(result.confidence).toBe('inferred')
    expect(result.summary).toContain('4 of 5 established sessions reset (RST) by the Console\'s side')
    expect(result.summary).toContain('an idle timeout of about 60.2 s')
    expect(result.summary).toContain('the Defender\'s ping interval is longer than the idle timeout')
    expect(result.evidence.frames).toEqual([10, 20, 30, 40])
    expect(result.evidence.values).toMatchObject({idleCuts: 4, idleTimeoutSeconds: 60.15})
    expect(result.hint).toContain('raise it above the Defender\'s ping interval')
  })

  it('with pings read (keys), says the ping interval beside the idle timeout', () => {
    const result = checkChannelStability(defender(cuts(3, () => 30), {pingIntervalSeconds: 45}), POLICY)
    expect(result.status).toBe('fail')
    expect(result.summary).toContain('an idle timeout of about 30.0 s')
    expect(result.summary).toContain('the Defender pings every 45.0 s, longer than that')
  })

  it('cuts after scattered idle times, or fewer than --idle-cut-sessions, are no idle timeout', () => {
    expect(checkChannelStability(defender(cuts(4, (i) => [5, 30, 90, 200][i]!)), POLICY).status).toBe('pass')
    expect(checkChannelStability(defender(cuts(2, () => 30)), POLICY).status).toBe('pass')
    expect(checkChannelStability(defender(cuts(2, () => 30)), {...POLICY, stability: {stormAttempts: 10, stormWindowSeconds: 60, idleCutSessions: 2, stoppedAfterSeconds: 60}}).status).toBe('fail')
    // Ended by the client: the Defender's own doing, not a timeout in between.
    const byClient = cuts(4, () => 30).map((s) => (s.end.by === 'server' ? {...s, end: {...s.end, by: 'client' as const}} : s))
    expect(checkChannelStability(defender(byClient), POLICY).status).toBe('pass')
  })

  it('a storm names the failing check that drives it', () => {
    const sessions = Array.from({length: 12}, (_, i) => session(i + 1, i, i + 0.2, {established: false, reason: 'refused', failedChecks: ['tls.alerts']}))
    const result = checkChannelStability(defender(sessions, {storm: {attempts: 12, from: iso(0), to: iso(11), seconds: 11}, failedChecks: [{id: 'tls.alerts', count: 12}], observedUntil: iso(12)}), POLICY)
    expect(result.status).toBe('fail')
    expect(result.summary).toContain('reconnect storm: 12 attempts in 11.0 s')
    expect(result.summary).toContain('more than 10 within 60.0 s; driven by tls.alerts failed on 12 of the 12 attempts')
    expect(result.hint).toContain('fix what fails tls.alerts')
  })

  it('a Defender whose last session ended stoppedAfter before the capture did has stopped reconnecting', () => {
    const sessions = [session(1, 0, 5, {by: 'client', reason: 'fin'})]
    expect(checkChannelStability(defender(sessions, {observedUntil: iso(64)}), POLICY).status).toBe('pass')
    const stopped = checkChannelStability(defender(sessions, {observedUntil: iso(66)}), POLICY)
    expect(stopped.status).toBe('fail')
    expect(stopped.summary).toContain('stopped reconnecting: its last session (connection #1) ended with a FIN from the client')
    expect(stopped.summary).toContain('no attempt followed in the 61.0 s until the capture ended (threshold 60.0 s)')
    // A session still open at the end is not a stop.
    expect(checkChannelStability(defender([session(1, 0, 66, {by: 'open', reason: 'capture-end'})], {observedUntil: iso(66)}), POLICY).status).toBe('pass')
  })

  it('duplicate identities: one certificate from two addresses fails, two certificates on one address warn', () => {
    const sessions = [session(1, 0, 100, {by: 'open', reason: 'capture-end'})]
    const dup = checkChannelStability(defender(sessions, {identity: {key: 'k', clientIp: '10.0.0.1', certificateSubject: 'CN=d', certificateFingerprint: 'sha256:x'}, sameCertificate: [{key: 'k2', clientIp: '10.0.0.2'}], observedUntil: iso(100)}), POLICY)
    expect(dup.status).toBe('fail')
    expect(dup.confidence).toBe('observed')
    expect(dup.summary).toContain('duplicate identity: the client certificate CN=d (sha256:x) was also presented from 10.0.0.2')
    const nat = checkChannelStability(defender(sessions, {sameAddress: [{key: 'k3', clientIp: '10.0.0.1', certificateSubject: 'CN=e'}], observedUntil: iso(100)}), POLICY)
    expect(nat.status).toBe('warn')
    expect(nat.summary).toContain('also presented another client certificate (CN=e)')
    const twoAtOnce = checkChannelStability(defender(sessions, {concurrentSessions: 2, observedUntil: iso(100)}), POLICY)
    expect(twoAtOnce.status).toBe('warn')
    expect(twoAtOnce.hint).toContain('give --keylog')
  })

  it('skips a Defender with no established session and nothing else to say', () => {
    const result = checkChannelStability(defender([session(1, 0, 1, {established: false, reason: 'refused'})], {failedChecks: [{id: 'tcp.syn-ack', count: 1}], observedUntil: iso(2)}), POLICY)
    expect(result.status).toBe('skip')
    expect(result.summary).toContain('tcp.syn-ack failed on 1')
  })
})
