/**
 * watch's session history stays bounded however long it runs (MAX_WATCH_SESSIONS), while its
 * counters keep counting every session; and the clock skew from a 101's Date header.
 */
import {describe, expect, it} from 'vitest'
import {buildPolicy} from '../../src/analysis/policy.js'
import {MAX_WATCH_SESSIONS} from '../../src/limits.js'
import type {DefenderSession} from '../../src/model/defenders.js'
import {SessionHistory} from '../../src/probe/watch/history.js'

const policy = buildPolicy({ports: [8084]})

function session(n: number, startMs: number, seconds: number, established: boolean): DefenderSession {
  return {
    connection: n,
    startedAt: new Date(startMs).toISOString(),
    endedAt: new Date(startMs + seconds * 1000).toISOString(),
    durationSeconds: seconds,
    established,
    end: established ? {reason: 'rst', by: 'server', confidence: 'inferred'} : {reason: 'refused', by: 'server', confidence: 'observed'},
    verdict: established ? 'fail' : 'fail',
    failedChecks: established ? ['ws.session'] : ['tcp.syn-ack'],
  }
}

describe('SessionHistory', () => {
  it('keeps the last MAX_WATCH_SESSIONS sessions of a day of flapping and counts all of them', () => {
    const history = new SessionHistory({key: 'this host', clientIp: '127.0.0.1'})
    const total = 86_400
    let t = Date.parse('2026-12-07T00:00:00Z')
    for (let n = 1; n <= total; n++) {
      // Every other attempt holds 2 s and is cut; the others are refused; 1 s between them.
      const established = n % 2 === 1
      const seconds = established ? 2 : 0.01
      history.record(session(n, t, seconds, established))
      t += seconds * 1000 + 1000
    }
    const defender = history.view(policy).defenders[0]!
    expect(defender.connections).toBe(total)
    expect(defender.reconnects).toBe(total - 1)
    expect(defender.sessions).toHaveLength(MAX_WATCH_SESSIONS)
    expect(defender.sessions.at(-1)!.connection).toBe(total)
    expect(defender.truncated).toEqual({sessions: total - MAX_WATCH_SESSIONS})
    expect(defender.endings).toEqual([
      {by: 'server', reason: 'rst', count: total / 2},
      {by: 'server', reason: 'refused', count: total / 2},
    ])
    expect(defender.sessionLifetime).toEqual({count: total / 2, min: 2, median: 2, max: 2})
    expect(defender.reconnectGap).toMatchObject({count: total - 1, min: 1, max: 1})
    expect(defender.failedChecks).toEqual([
      {id: 'ws.session', count: total / 2},
      {id: 'tcp.syn-ack', count: total / 2},
    ])
    expect(defender.checks.map((c) => c.id)).toEqual(['channel.stability'])
  })

  it('does not count the session watch itself closed on stop as a lifetime', () => {
    const history = new SessionHistory({key: 'this host', clientIp: '127.0.0.1'})
    history.record({...session(1, 0, 30, true), end: {reason: 'ws-close', by: 'client', confidence: 'observed', wsCloseCode: 1000}})
    expect(history.view(policy).defenders[0]!.sessionLifetime).toBeUndefined()
  })
})
