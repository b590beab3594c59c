/**
 * The per-Defender view's grouping and statistics (analysis/defenders.ts), fed connection facts
 * reduced to what the view reads: the client address, the TCP start/end and FIN/RST, the client
 * certificate and SNI, and the checks' statuses.
 */
import {describe, expect, it} from 'vitest'
import {DefenderViewBuilder} from '../../src/analysis/defenders.js'
import type {CheckId, CheckResult, CheckStatus} from '../../src/model/checks.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import type {Policy} from '../../src/model/policy.js'

const T0 = 1_800_000_000
const POLICY: Policy = {ports: [8084]}

interface Conn {
  id: number
  ip: string
  start: number
  end: number
  /** Who sent the first RST ('server'), FIN ('client-fin'), or nothing (open at the end). */
  ending?: 'server-rst' | 'client-fin'
  /** Last payload, for the idle time before the end. */
  lastData?: number
  subject?: string
  fingerprint?: string
  upgrade?: CheckStatus
}

function factsOf(c: Conn): ConnectionFacts {
  const at = (ts: number, from: 'client' | 'server') => ({frame: c.id * 10, ts, from})
  const tls = c.subject === undefined ? undefined : {clientHellos: [{sni: 'console.test'}], clientCertificate: {certificates: [{subject: c.subject, sha256: c.fingerprint ?? 'ab'.repeat(32)}]}, alerts: []}
  return {
    id: c.id,
    client: {ip: c.ip, port: 40000 + c.id},
    server: {ip: '10.0.0.1', port: 8084},
    tcp: {
      startTs: T0 + c.start,
      endTs: T0 + c.end,
      rst: c.ending === 'server-rst' ? [at(T0 + c.end, 'server')] : [],
      fin: c.ending === 'client-fin' ? [at(T0 + c.end, 'client')] : [],
      ack: {frame: 3, ts: T0 + c.start},
      c2s: {deliveredBytes: 100},
      s2c: {deliveredBytes: 100},
    },
    tls,
    derived: {},
  } as unknown as ConnectionFacts
}

function checksOf(c: Conn): CheckResult[] {
  const check = (id: CheckId, status: CheckStatus): CheckResult => ({id, status, confidence: 'observed', summary: id, evidence: {frames: []}})
  return [check('tcp.syn', 'pass'), check('ws.upgrade', c.upgrade ?? 'pass')]
}

function feed(builder: DefenderViewBuilder, conns: Conn[], captureEnd: number): void {
  for (const c of conns) builder.add(factsOf(c), checksOf(c), c.upgrade === 'fail' ? 'fail' : 'pass', c.lastData === undefined ? undefined : T0 + c.lastData, T0 + captureEnd)
}

describe('DefenderViewBuilder', () => {
  it('keeps the most recent sessions (LIST_CAPS.defenderSessions) and counts the rest; min/max over all, the median over those kept', () => {
    const builder = new DefenderViewBuilder({policy: POLICY})
    const conns: Conn[] = []
    // 40 sessions of 10 + i seconds each, reset by the server after 5 s idle, reconnecting 1 s later.
    let t = 0
    for (let i = 1; i <= 40; i++) {
      conns.push({id: i, ip: '10.1.1.1', start: t, end: t + 10 + i, ending: 'server-rst', lastData: t + 5 + i})
      t += 10 + i + 1
    }
    feed(builder, conns, t + 1)
    const [defender] = builder.view(T0 + t + 1).defenders
    expect(defender!.connections).toBe(40)
    expect(defender!.reconnects).toBe(39)
    expect(defender!.sessions).toHaveLength(32)
    expect(defender!.truncated).toEqual({sessions: 8})
    expect(defender!.sessions.map((s) => s.connection)).toEqual(Array.from({length: 32}, (_, i) => i + 9))
    expect(defender!.sessionLifetime).toEqual({count: 40, min: 11, median: 34.5, max: 50, medianOf: 32})
    expect(defender!.reconnectGap).toEqual({count: 39, min: 1, median: 1, max: 1, medianOf: 32})
    expect(defender!.endings).toEqual([{by: 'server', reason: 'rst', count: 40}])
    expect(defender!.sessions.every((s) => s.idleBeforeEndSeconds === 5 && s.established && s.end.frame !== undefined)).toBe(true)
    expect(defender!.lastGoodHandshake).toBeDefined()
  })

  it('counts the Defenders past maxDefenders instead of grouping them', () => {
    const builder = new DefenderViewBuilder({policy: POLICY, maxDefenders: 2})
    feed(builder, [
      {id: 1, ip: '10.0.0.11', start: 0, end: 1},
      {id: 2, ip: '10.0.0.12', start: 0, end: 1},
      {id: 3, ip: '10.0.0.13', start: 0, end: 1},
      {id: 4, ip: '10.0.0.13', start: 2, end: 3},
      {id: 5, ip: '10.0.0.11', start: 2, end: 3},
    ], 4)
    const view = builder.view(T0 + 4)
    expect(view.defenders.map((d) => [d.identity.clientIp, d.connections])).toEqual([['10.0.0.11', 2], ['10.0.0.12', 1]])
    expect(view.overflow).toBe(1)
    expect(view.overflowConnections).toBe(2)
    expect(view.limit).toBe(2)
  })

  it('tells Defenders on one address apart by certificate, and finds one certificate on two addresses at once', () => {
    const builder = new DefenderViewBuilder({policy: POLICY})
    feed(builder, [
      {id: 1, ip: '10.0.0.1', start: 0, end: 10, subject: 'CN=a', fingerprint: 'aa'.repeat(32)},
      {id: 2, ip: '10.0.0.1', start: 1, end: 10, subject: 'CN=b', fingerprint: 'bb'.repeat(32)},
      {id: 3, ip: '10.0.0.2', start: 2, end: 9, subject: 'CN=dup', fingerprint: 'dd'.repeat(32)},
      {id: 4, ip: '10.0.0.3', start: 3, end: 8, subject: 'CN=dup', fingerprint: 'dd'.repeat(32)},
      // The same certificate later from a new address, after the first stopped: a move, not a duplicate.
      {id: 5, ip: '10.0.0.4', start: 20, end: 21, ending: 'client-fin', subject: 'CN=moved', fingerprint: 'ee'.repeat(32)},
      {id: 6, ip: '10.0.0.5', start: 30, end: 31, ending: 'client-fin', subject: 'CN=moved', fingerprint: 'ee'.repeat(32)},
    ], 40)
    const byKey = new Map(builder.view(T0 + 40).defenders.map((d) => [d.identity.key, d]))
    expect([...byKey.keys()]).toEqual(['10.0.0.1 CN=a sni=console.test', '10.0.0.1 CN=b sni=console.test', '10.0.0.2 CN=dup sni=console.test', '10.0.0.3 CN=dup sni=console.test', '10.0.0.4 CN=moved sni=console.test', '10.0.0.5 CN=moved sni=console.test'])
    const a = byKey.get('10.0.0.1 CN=a sni=console.test')!
    expect(a.sameAddress?.map((p) => p.certificateSubject)).toEqual(['CN=b'])
    expect(a.identity.certificateFingerprint).toBe(`sha256:${'aa'.repeat(32)}`)
    expect(a.checks[0]!.status).toBe('warn')
    const dup = byKey.get('10.0.0.2 CN=dup sni=console.test')!
    expect(dup.sameCertificate?.map((p) => p.clientIp)).toEqual(['10.0.0.3'])
    expect(dup.checks[0]!.status).toBe('fail')
    expect(dup.verdict).toBe('fail')
    expect(byKey.get('10.0.0.4 CN=moved sni=console.test')!.sameCertificate).toBeUndefined()
  })

  it('connections of one address without a visible certificate or SNI join the one Defender that has them', () => {
    const builder = new DefenderViewBuilder({policy: POLICY})
    feed(builder, [
      // Started before the capture: no ClientHello, so no SNI and no certificate.
      {id: 1, ip: '10.0.0.1', start: 0, end: 5, ending: 'server-rst'},
      {id: 2, ip: '10.0.0.1', start: 6, end: 20, subject: 'CN=a'},
      // Two certificates on one address: an unrefined connection there cannot be told apart.
      {id: 3, ip: '10.0.0.2', start: 0, end: 5, ending: 'server-rst'},
      {id: 4, ip: '10.0.0.2', start: 6, end: 20, subject: 'CN=b'},
      {id: 5, ip: '10.0.0.2', start: 6, end: 20, subject: 'CN=c', fingerprint: 'cc'.repeat(32)},
    ], 20)
    const view = builder.view(T0 + 20)
    expect(view.defenders.map((d) => [d.identity.key, d.connections])).toEqual([
      ['10.0.0.1 CN=a sni=console.test', 2],
      ['10.0.0.2', 1],
      ['10.0.0.2 CN=b sni=console.test', 1],
      ['10.0.0.2 CN=c sni=console.test', 1],
    ])
    const merged = view.defenders[0]!
    expect(merged.sessions.map((s) => s.connection)).toEqual([1, 2])
    expect(merged.endings).toEqual([{by: 'server', reason: 'rst', count: 1}, {by: 'open', reason: 'capture-end', count: 1}])
  })

  it('a storm is more than stormAttempts attempts within the window, counted over every attempt', () => {
    const attempts = (n: number, ip: string, every: number): Conn[] => Array.from({length: n}, (_, i) => ({id: i + 1, ip, start: i * every, end: i * every + 0.1, ending: 'client-fin' as const, upgrade: 'fail' as const}))
    const builder = new DefenderViewBuilder({policy: {...POLICY, stability: {stormAttempts: 10, stormWindowSeconds: 60, idleCutSessions: 3, stoppedAfterSeconds: 600}}})
    feed(builder, [...attempts(10, '10.0.0.1', 1), ...attempts(11, '10.0.0.2', 1), ...attempts(40, '10.0.0.3', 7)], 300)
    const view = builder.view(T0 + 300)
    const byIp = new Map(view.defenders.map((d) => [d.identity.clientIp, d]))
    expect(byIp.get('10.0.0.1')!.storm).toBeUndefined()
    expect(byIp.get('10.0.0.2')!.storm).toMatchObject({attempts: 11, seconds: 10})
    const storm = byIp.get('10.0.0.2')!.checks[0]!
    expect(storm.status).toBe('fail')
    expect(storm.summary).toContain('driven by ws.upgrade')
    // One attempt every 7 s: 9 in any 60 s, never more than 10.
    expect(byIp.get('10.0.0.3')!.storm).toBeUndefined()
    expect(byIp.get('10.0.0.3')!.failedChecks).toEqual([{id: 'ws.upgrade', count: 40}])
    expect(byIp.get('10.0.0.3')!.checks[0]!.status).toBe('skip')
  })
})
