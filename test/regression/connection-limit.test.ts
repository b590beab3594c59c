/**
 * Issue 7 item 4: a crafted capture of 1,000,000 half-open connections (SYNs from distinct
 * clients, nothing else) must stay under the resource caps: the tracker holds at most
 * maxConnections at once, the ones pushed out get a 'stream.connection-limit' issue, and memory
 * and time stay bounded. The capture is generated in chunks (syn-flood.ts) and fed to the real
 * parser and Analyzer; the test stops early, naming how far it got, as soon as it passes the
 * time or memory budget, so a regression fails fast instead of exhausting the machine.
 */
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {DEFAULT_LIMITS} from '../../src/limits.js'
import {FILE_HEADER, synRecords} from './syn-flood.js'

const CONNECTIONS = 1_000_000
const CHUNK = 20_000
const TIME_BUDGET_MS = 25_000
/** RSS growth allowed over the whole run: the report of a million connections included. */
const RSS_BUDGET_BYTES = 1024 * 2 ** 20
const MAX_CONNECTIONS = 10_000

describe('1,000,000 half-open connections', () => {
  it('stay under the connection cap, in bounded memory and time', () => {
    expect(DEFAULT_LIMITS.maxConnections).toBeGreaterThan(0)
    const analyzer = new Analyzer({policy: buildPolicy({}), maxConnections: MAX_CONNECTIONS})
    const parser = createCaptureParser(analyzer.sink)
    const started = performance.now()
    const rssBefore = process.memoryUsage().rss
    parser.push(FILE_HEADER)
    for (let fed = 0; fed < CONNECTIONS; fed += CHUNK) {
      parser.push(synRecords(fed, CHUNK))
      const ms = performance.now() - started
      const grown = process.memoryUsage().rss - rssBefore
      const where = `after ${fed + CHUNK} SYNs: ${(ms / 1000).toFixed(1)} s, RSS +${(grown / 2 ** 20).toFixed(0)} MiB`
      expect(ms, where).toBeLessThan(TIME_BUDGET_MS)
      expect(grown, where).toBeLessThan(RSS_BUDGET_BYTES)
    }
    const report = analyzer.finish({kind: 'file', name: 'syn-flood.pcap', capture: parser.end()})
    expect(report.source.frames).toBe(CONNECTIONS)
    expect(report.connections).toHaveLength(CONNECTIONS)
    // Every connection but the last MAX_CONNECTIONS was pushed out while still open.
    const limited = report.connections.filter((c) => c.facts.issues.some((i) => i.code === 'stream.connection-limit'))
    expect(limited).toHaveLength(CONNECTIONS - MAX_CONNECTIONS)
    expect(limited[0]!.checks.find((c) => c.id === 'tcp.syn')?.status).toBe('pass')
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(RSS_BUDGET_BYTES)
    expect(performance.now() - started).toBeLessThan(TIME_BUDGET_MS)
  }, 30_000)
})
