/**
 * Derived facts (analysis/derive.ts): worked out once when a connection's facts are assembled,
 * read by the checks and the ladder, never written to any output. fixtures/wss/node-mtls is
 * TLS 1.3 with mutual TLS and no key log: its flights and upgrade flow are judged by record sizes
 * (fixtures/wss/README.md: a 182-byte upgrade request record, answered, then frames both ways).
 */
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {deriveFacts, derivedOf, withDerivedFacts} from '../../src/analysis/derive.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {runChecks} from '../../src/checks/index.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
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
    expect(facts.derived.tls13).toMatchObject({clientFlightKind: 'certificate'})
    expect(facts.derived.tls13!.serverAfterClient.length).toBeGreaterThan(0)
    expect(facts.derived.upgradeFlow).toMatchObject({request: {length: 182, direction: 'c2s'}, requestLooksLikeUpgrade: true})
    expect(facts.derived.snaplenCut).toBeUndefined()
  })

  it('never reach an output: not enumerable, and the JSON report has no "derived" key', async () => {
    const {facts, json} = await analyzed()
    expect(Object.keys(facts)).not.toContain('derived')
    expect(json).not.toContain('"derived"')
    expect(JSON.stringify(facts)).not.toContain('upgradeFlow')
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

  it('are derived again for facts that lost them (a structuredClone drops a non-enumerable property), as the ladder does', async () => {
    const {facts} = await analyzed()
    const clone = structuredClone(facts) as Partial<ConnectionFacts>
    expect(clone.derived).toBeUndefined()
    expect(derivedOf(clone as ConnectionFacts)).toEqual(deriveFacts(facts))
    expect(derivedOf(facts)).toBe(facts.derived)
  })
})
