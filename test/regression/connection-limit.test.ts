/**
 * Issue 7 item 4: a crafted capture of half-open connections (SYNs from distinct clients,
 * nothing else) must stay under the resource caps: the tracker holds at most maxConnections at
 * once and the ones pushed out get a 'stream.connection-limit' issue, in bounded time.
 *
 * What is NOT met yet, and this test says so rather than hiding it: every connection ever seen
 * is kept for the report (TrackedConnection, facts, then ConnectionReport with its checks), so
 * memory grows with the number of connections in the file — measured ~2.5 KB per half-open
 * connection while reading and ~5.4 KB once reported. The issue's 1,000,000 connections would need
 * ~5 GiB; flat memory needs the report to stream connections as they finish (open work). The
 * budgets below pin today's per-connection cost so it cannot silently grow, at a size CI can run.
 * The capture is generated in chunks (syn-flood.ts) and fed to the real parser and Analyzer; the
 * test stops early, naming how far it got, as soon as it passes a budget.
 */
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {DEFAULT_LIMITS} from '../../src/limits.js'
import {FILE_HEADER, synRecords} from './syn-flood.js'

const CONNECTIONS = 200_000
const CHUNK = 20_000
const TIME_BUDGET_MS = 25_000
/** Heap allowed per connection seen: ~2.5 KB measured while reading, ~5.4 KB with the report. */
const READING_BYTES_PER_CONNECTION = 4 * 1024
const REPORTED_BYTES_PER_CONNECTION = 8 * 1024
const MAX_CONNECTIONS = 10_000
/** Garbage not yet collected (the test runs without --expose-gc) and the parser's buffers. */
const HEAP_SLACK_BYTES = 128 * 2 ** 20

describe(`${CONNECTIONS.toLocaleString('en')} half-open connections`, () => {
  it('stay under the connection cap, in time, at a pinned memory cost per connection seen', () => {
    expect(DEFAULT_LIMITS.maxConnections).toBeGreaterThan(0)
    const analyzer = new Analyzer({policy: buildPolicy({}), maxConnections: MAX_CONNECTIONS})
    const parser = createCaptureParser(analyzer.sink)
    const started = performance.now()
    const heapBefore = process.memoryUsage().heapUsed
    parser.push(FILE_HEADER)
    for (let fed = 0; fed < CONNECTIONS; fed += CHUNK) {
      parser.push(synRecords(fed, CHUNK))
      const ms = performance.now() - started
      const grown = process.memoryUsage().heapUsed - heapBefore
      const where = `after ${fed + CHUNK} SYNs: ${(ms / 1000).toFixed(1)} s, heap +${(grown / 2 ** 20).toFixed(0)} MiB`
      expect(ms, where).toBeLessThan(TIME_BUDGET_MS)
      expect(grown, where).toBeLessThan(HEAP_SLACK_BYTES + (fed + CHUNK) * READING_BYTES_PER_CONNECTION)
    }
    const report = analyzer.finish({kind: 'file', name: 'syn-flood.pcap', capture: parser.end()})
    expect(report.source.frames).toBe(CONNECTIONS)
    expect(report.connections).toHaveLength(CONNECTIONS)
    // Every connection but the last MAX_CONNECTIONS was pushed out while still open.
    const limited = report.connections.filter((c) => c.facts.issues.some((i) => i.code === 'stream.connection-limit'))
    expect(limited).toHaveLength(CONNECTIONS - MAX_CONNECTIONS)
    expect(limited[0]!.checks.find((c) => c.id === 'tcp.syn')?.status).toBe('pass')
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(HEAP_SLACK_BYTES + CONNECTIONS * REPORTED_BYTES_PER_CONNECTION)
    expect(performance.now() - started).toBeLessThan(TIME_BUDGET_MS)
  }, 30_000)
})
