import {describe, expect, it} from 'vitest'
import {runChecks, worstStatus} from '../../src/checks/index.js'
import {CHECK_IDS, type CheckStatus} from '../../src/model/checks.js'
import type {Policy} from '../../src/model/policy.js'
import {completedHandshake, filtered, midstream, refused} from './tcp-facts.js'

const policy: Policy = {ports: [8084], minTls: '1.3'}

describe('runChecks', () => {
  it('runs the TCP checks in catalogue order, each result under its own id', () => {
    const all = runChecks(completedHandshake(), policy).map((result) => result.id)
    // No proxy, no Microperimeter redirection and no answeredBy on these facts: proxy.connect, path.redirect and path.answered-by do not apply and are left out.
    expect(all).toEqual([...CHECK_IDS.filter((id) => id !== 'proxy.connect' && id !== 'path.redirect' && id !== 'path.answered-by')])
    const ids = all.filter((id) => id.startsWith('tcp.'))
    expect(ids).toEqual(['tcp.syn', 'tcp.syn-ack', 'tcp.ack'])
    expect(ids).toEqual(CHECK_IDS.filter((id) => ids.includes(id)))
  })

  it('gives the statuses expected for the fixtures (fixtures/tcp/*/expected.json)', () => {
    const statuses = (facts: Parameters<typeof runChecks>[0]) =>
      runChecks(facts, policy)
        .filter((result) => result.id.startsWith('tcp.'))
        .map((result) => result.status)
    expect(statuses(completedHandshake())).toEqual(['pass', 'pass', 'pass'])
    expect(statuses(refused())).toEqual(['pass', 'fail', 'fail'])
    expect(statuses(filtered())).toEqual(['pass', 'fail', 'fail'])
    expect(statuses(midstream())).toEqual(['skip', 'skip', 'skip'])
  })
})

describe('worstStatus', () => {
  const of = (...statuses: CheckStatus[]) => worstStatus(statuses.map((status) => ({status})))

  it('ranks fail > warn > pass > skip', () => {
    expect(of('pass', 'skip', 'fail', 'warn')).toBe('fail')
    expect(of('skip', 'warn', 'pass')).toBe('warn')
    expect(of('skip', 'pass', 'skip')).toBe('pass')
    expect(of('skip', 'skip')).toBe('skip')
  })

  it('is skip for no results', () => {
    expect(of()).toBe('skip')
  })
})
