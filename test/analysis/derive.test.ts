/**
 * Derived facts (analysis/derive.ts): attached when a connection's facts are assembled, each
 * worked out at most once, when first read, read by the checks and the ladder, never written to
 * any output. fixtures/wss/node-mtls is
 * TLS 1.3 with mutual TLS and no key log: its flights and upgrade flow are judged by record sizes
 * (fixtures/wss/README.md: a 182-byte upgrade request record, answered, then frames both ways).
 */
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {deriveFacts, derivedOf, withDerivedFacts} from '../../src/analysis/derive.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {runChecks} from '../../src/checks/index.js'
import {DERIVED, type ConnectionFacts, type DerivedFacts} from '../../src/model/facts.js'
import {isCaptureFacts} from '../../src/model/report.js'
import {renderJson} from '../../src/report/json.js'

const policy = buildPolicy({console: 'console.test'})

async function analyzed(): Promise<{facts: ConnectionFacts; json: string}> {
  const report = await analyzeCapture('fixtures/wss/node-mtls/capture.pcap', {policy})
  expect(report.connections).toHaveLength(1)
  const facts = report.connections[0].facts
  if (!isCaptureFacts(facts)) throw new Error('capture analysis gave probe facts')
  return {facts, json: renderJson(report)}
}

describe('derived facts', () => {
  it('are attached when the facts are assembled: the TLS 1.3 flights and the upgrade flow of fixtures/wss/node-mtls', async () => {
    const {facts} = await analyzed()
    expect(facts[DERIVED].tls13).toMatchObject({clientFlightKind: 'certificate'})
    expect(facts[DERIVED].tls13!.serverAfterClient.length).toBeGreaterThan(0)
    expect(facts[DERIVED].upgradeFlow).toMatchObject({request: {length: 182, direction: 'c2s'}, requestLooksLikeUpgrade: true})
    expect(facts[DERIVED].snaplenCut).toBeUndefined()
  })

  it('are worked out once per connection: a second read gives the same objects', async () => {
    const {facts} = await analyzed()
    const derived = facts[DERIVED]
    const flow = derived.upgradeFlow
    const flights = derived.tls13
    expect(flow).toBeDefined()
    expect(derived.upgradeFlow).toBe(flow)
    expect(derived.tls13).toBe(flights)
  })

  it('are worked out only when read: attaching them reads nothing of the facts, a second read nothing more', async () => {
    const {facts} = await analyzed()
    const tls = facts.tls
    let tlsReads = 0
    const counted: Record<string, unknown> = {...facts}
    Object.defineProperty(counted, 'tls', {enumerable: true, get: () => (tlsReads++, tls)})
    const attached = withDerivedFacts(counted as unknown as ConnectionFacts)
    expect(tlsReads).toBe(0)
    expect(attached[DERIVED].upgradeFlow).toBeDefined()
    const afterFirstRead = tlsReads
    expect(afterFirstRead).toBeGreaterThan(0)
    expect(attached[DERIVED].tls13).toBeDefined()
    expect(attached[DERIVED].upgradeFlow).toBeDefined()
    expect(tlsReads).toBe(afterFirstRead)
  })

  it('do not depend on which one is read first: the upgrade flow before the flights gives what the flights first give', async () => {
    const {facts} = await analyzed()
    const flowFirst = deriveFacts(facts)
    const flow = flowFirst.upgradeFlow
    const flightsFirst = deriveFacts(facts)
    const flights = flightsFirst.tls13
    expect(flow).toEqual(flightsFirst.upgradeFlow)
    expect(flowFirst.tls13).toEqual(flights)
    expect(flowFirst.snaplenCut).toEqual(flightsFirst.snaplenCut)
  })

  it('never reach an output: under a symbol key, and the JSON report has no derived facts', async () => {
    const {facts, json} = await analyzed()
    // Read them all first, so whatever they keep is there to leak.
    expect(facts[DERIVED].upgradeFlow).toBeDefined()
    expect(Object.keys(facts)).not.toContain('derived')
    expect(json).not.toContain('"derived"')
    expect(json).not.toContain('upgradeFlow')
    expect(JSON.stringify(facts)).not.toContain('upgradeFlow')
    expect(JSON.stringify(facts)).not.toContain('serverAfterClient')
  })

  it('do not depend on the order anyone reads them in: the checks of a copy re-derived after another connection give the same results', async () => {
    const first = await analyzed()
    const second = await analyzed()
    const before = runChecks(first.facts, policy)
    // Interleave: the second connection's checks run between two runs on the first (the old
    // one-entry caches in checks/ remembered only the last connection they saw).
    runChecks(second.facts, policy)
    const copy = withDerivedFacts(structuredClone({...first.facts}))
    expect(runChecks(copy, policy)).toEqual(before)
    expect(runChecks(first.facts, policy)).toEqual(before)
  })

  it('are derived again for facts that lost them (a structuredClone drops a symbol key), as the ladder does', async () => {
    const {facts} = await analyzed()
    const clone = structuredClone(facts) as Partial<ConnectionFacts>
    expect(clone[DERIVED]).toBeUndefined()
    expect(answers(derivedOf(clone as ConnectionFacts))).toEqual(answers(facts[DERIVED]))
    expect(derivedOf(facts)).toBe(facts[DERIVED])
  })
})

/** What derived facts answer (their getters), as a plain object a deep equality compares. */
function answers(derived: DerivedFacts): DerivedFacts {
  return {tls13: derived.tls13, upgradeFlow: derived.upgradeFlow, snaplenCut: derived.snaplenCut}
}
