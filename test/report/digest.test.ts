/**
 * The table of a big capture is drawn from a ConnectionDigest fed one connection at a time, in
 * the order the analysis decides them (not by id), so that 100,000 connections are not held in
 * memory. What the digest keeps must not depend on that order, and the table drawn from it must
 * be the table drawn from the whole report. Real connections: the 58 of the corpus's
 * tls-handshake.pcapng on port 443 (failing, warning and passing ones), and the sample report.
 */
import {join} from 'node:path'
import fc from 'fast-check'
import {expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {ConnectionReport} from '../../src/model/report.js'
import {ConnectionDigest} from '../../src/report/digest.js'
import {renderTable, SUMMARY_THRESHOLD, tableDigest, WORST_SHOWN} from '../../src/report/table.js'
import {CORPUS_PCAPS} from '../helpers/paths.js'
import {describeWithJa4} from '../helpers/skip.js'

const CAPTURE = join(CORPUS_PCAPS, 'tls-handshake.pcapng')
const policy = buildPolicy({ports: ['443']})

/** What a digest says, in a comparable form. */
function digestView(digest: ConnectionDigest) {
  return {
    connections: digest.connections,
    verdicts: {...digest.verdicts},
    hellos: [digest.clientHellos, digest.serverHellos, digest.withTls, digest.tls13],
    reasons: digest.reasons().map((r) => [r.status, r.id, r.connections, r.connection, r.example.summary]),
    worst: digest.worst().map((c) => c.id),
    every: digest.everyConnection()?.map((c) => c.id),
  }
}

describeWithJa4('ConnectionDigest', async () => {
  const streamed: ConnectionReport[] = []
  const report = await analyzeCapture(CAPTURE, {policy, onConnection: (c) => streamed.push(c)})
  const connections = report.connections

  it('is handed every connection, and the capture has more than a screenful of them', () => {
    expect(connections.length).toBe(58)
    expect(streamed.map((c) => c.id).sort((a, b) => a - b)).toEqual(connections.map((c) => c.id))
    expect(connections.length).toBeGreaterThan(SUMMARY_THRESHOLD)
    expect(connections.filter((c) => c.verdict === 'fail' || c.verdict === 'warn').length).toBeGreaterThan(WORST_SHOWN)
  })

  it('keeps the same counts, reasons, examples and worst connections whatever the arrival order', () => {
    const byId = digestView(tableDigest(connections))
    expect(byId.every).toBeUndefined()
    expect(byId.worst).toHaveLength(WORST_SHOWN)
    // The example of each reason is its lowest-id connection.
    for (const [status, id, , first] of byId.reasons) {
      expect(first).toBe(connections.find((c) => c.checks.some((check) => check.id === id && check.status === status))!.id)
    }
    fc.assert(
      fc.property(fc.shuffledSubarray(connections, {minLength: connections.length}), (order) => {
        expect(digestView(tableDigest(order))).toEqual(byId)
      }),
      {seed: 20261122, numRuns: 50},
    )
  })

  it('keeps every connection up to keepAllUpTo, and none past it', () => {
    const first = connections.slice(0, SUMMARY_THRESHOLD)
    expect(tableDigest([...first].reverse()).everyConnection()!.map((c) => c.id)).toEqual(first.map((c) => c.id))
    expect(tableDigest(connections.slice(0, SUMMARY_THRESHOLD + 1)).everyConnection()).toBeUndefined()
  })

  it('gives the table the whole report would give, from the streamed connections alone', async () => {
    const digest = tableDigest()
    const lean = await analyzeCapture(CAPTURE, {policy, maxReportedConnections: 0, onConnection: (c) => digest.add(c)})
    expect(lean.connections).toEqual([])
    expect(lean.source.issues.map((issue) => issue.code)).not.toContain('report.connection-limit')
    const options = {color: false, width: 100}
    const whole = renderTable(report, options)
    expect(whole).toContain('58 connections to the Console')
    expect(renderTable(lean, options, digest)).toBe(whole)
  })
})
