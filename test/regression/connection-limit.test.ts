/**
 * Issue 7 item 4: a crafted capture of 1,000,000 half-open connections (SYNs from distinct
 * clients, nothing else) stays under the resource caps, never an out-of-memory:
 * - the tracker holds at most maxConnections at once; the ones pushed out get a
 *   'stream.connection-limit' issue and are analysed as they leave (their reader state dropped);
 * - the report lists at most maxReportedConnections in full; the rest are counted in the summary
 *   and the verdict, and a 'report.connection-limit' issue says how many were left out;
 * so memory stops growing once both caps are reached: it is the same after 400,000 SYNs as after
 * 1,000,000. The capture is generated in chunks (syn-flood.ts) and fed to the real parser and
 * Analyzer. What bounds the work per SYN is what is held: after every chunk the analyzer keeps
 * reader state for at most maxConnections connections and the tracker at most maxConnections in
 * its activity list (a count, independent of machine load). How fast it goes is for npm run
 * bench; the test's own timeout (HANG_DEADLINE_MS) only catches a hang.
 */
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {DEFAULT_LIMITS} from '../../src/limits.js'
import {FILE_HEADER, synRecords} from './syn-flood.js'

const CONNECTIONS = 1_000_000
const CHUNK = 20_000
/** ~25 s on an idle 2-core machine, ~50 s loaded: the deadline only catches a hang. */
const HANG_DEADLINE_MS = 600_000
const MAX_CONNECTIONS = 10_000
const MAX_REPORTED = 50_000
/** Both caps are reached by then; from here on the heap must stay flat. */
const PLATEAU_FROM = 400_000
/** Heap noise allowed on the plateau, measured after a full collection (vitest runs with --expose-gc). */
const PLATEAU_SLACK_BYTES = 64 * 2 ** 20

/** What the analyzer and its tracker hold right now (private fields, read for this bound only). */
function held(analyzer: Analyzer): {readerStates: number; tracked: number} {
  const inside = analyzer as unknown as {states: Map<number, unknown>; tracker: {tracked: number}}
  return {readerStates: inside.states.size, tracked: inside.tracker.tracked}
}

function liveHeap(): number {
  const gc = (globalThis as {gc?: () => void}).gc
  if (gc === undefined) throw new Error('run with node --expose-gc (vitest.config.ts sets it)')
  gc()
  return process.memoryUsage().heapUsed
}

describe('1,000,000 half-open connections', () => {
  it('stay under the connection caps, in flat memory once the caps are reached', () => {
    expect(DEFAULT_LIMITS.maxConnections).toBeGreaterThan(0)
    const analyzer = new Analyzer({policy: buildPolicy({}), maxConnections: MAX_CONNECTIONS, maxReportedConnections: MAX_REPORTED})
    const parser = createCaptureParser(analyzer.sink)
    let plateau: number | undefined
    parser.push(FILE_HEADER)
    for (let fed = 0; fed < CONNECTIONS; fed += CHUNK) {
      parser.push(synRecords(fed, CHUNK))
      const seen = fed + CHUNK
      // Collect only where it is compared: a full GC costs ~0.1 s with this much live data.
      const heap = seen >= PLATEAU_FROM && seen % 100_000 === 0 ? liveHeap() : process.memoryUsage().heapUsed
      const now = held(analyzer)
      const where = `after ${seen} SYNs: ${now.readerStates} reader states, ${now.tracked} tracked, heap ${(heap / 2 ** 20).toFixed(0)} MiB`
      expect(now.readerStates, where).toBeLessThanOrEqual(MAX_CONNECTIONS)
      expect(now.tracked, where).toBeLessThanOrEqual(MAX_CONNECTIONS)
      if (seen === PLATEAU_FROM) plateau = heap
      if (plateau !== undefined && seen % 100_000 === 0) expect(heap - plateau, `${where}, ${((heap - plateau) / 2 ** 20).toFixed(0)} MiB over the plateau`).toBeLessThan(PLATEAU_SLACK_BYTES)
    }
    const report = analyzer.finish({kind: 'file', name: 'syn-flood.pcap', capture: parser.end()})
    expect(report.source.frames).toBe(CONNECTIONS)
    expect(report.summary.connections).toBe(CONNECTIONS)
    expect(report.connections).toHaveLength(MAX_REPORTED)
    // Every SYN is a pass of tcp.syn, counted for all connections, listed or not.
    expect(report.summary.pass).toBeGreaterThanOrEqual(CONNECTIONS)
    expect(report.source.issues.map((i) => i.code)).toContain('report.connection-limit')
    // The listed connections are the first ones, each pushed out of the tracker while still open.
    expect(report.connections.map((c) => c.id)).toEqual(Array.from({length: MAX_REPORTED}, (_, i) => i + 1))
    expect(report.connections.every((c) => c.facts.issues.some((i) => i.code === 'stream.connection-limit'))).toBe(true)
    expect(report.connections[0]!.checks.find((c) => c.id === 'tcp.syn')?.status).toBe('pass')
  }, HANG_DEADLINE_MS)
})
