/**
 * Issue 16 item 4: 1M unanswered SYNs from distinct clients held 100,000 open connections
 * (maxConnections) of ~3 KB each: ~800 MiB peak RSS for the table. Connections whose SYN had no
 * answer have their own, smaller cap (maxHalfOpenConnections, 10,000 by default): past it the
 * least recently active one is finished early with 'stream.half-open-limit'. The SYNs are
 * tls13-lo.pcap's real Linux SYN from distinct clients (syn-flood.ts); 40,000 are enough to
 * cross the cap four times over (the 1M figures are in the commit message).
 */
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {ConnectionReport} from '../../src/model/report.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {DEFAULT_LIMITS} from '../../src/limits.js'
import {FILE_HEADER, synRecords} from './syn-flood.js'

function liveHeap(): number {
  const gc = (globalThis as {gc?: () => void}).gc
  if (gc === undefined) throw new Error('run with node --expose-gc (vitest.config.ts sets it)')
  gc()
  return process.memoryUsage().heapUsed
}

describe('a SYN flood from distinct clients', () => {
  it('holds at most maxHalfOpenConnections half-open connections: the rest are finished early, in flat memory', () => {
    const cap = DEFAULT_LIMITS.maxHalfOpenConnections
    expect(cap).toBe(10_000)
    const total = 4 * cap
    let closedCount = 0
    const counting = new Analyzer({policy: buildPolicy({}), onConnection: () => closedCount++, maxReportedConnections: 0})
    const parser = createCaptureParser(counting.sink)
    parser.push(FILE_HEADER)
    parser.push(synRecords(0, 2 * cap))
    const atHalf = liveHeap()
    expect(closedCount).toBe(cap)
    parser.push(synRecords(2 * cap, 2 * cap))
    const atEnd = liveHeap()
    // Each SYN past the cap finishes the oldest half-open connection as it comes.
    expect(closedCount).toBe(total - cap)
    // 20,000 more half-open connections held would be ~60 MiB.
    expect(atEnd - atHalf, `${((atEnd - atHalf) / 2 ** 20).toFixed(1)} MiB more`).toBeLessThan(12 * 2 ** 20)
    const report = counting.finish({kind: 'file', name: 'syn-flood.pcap', capture: parser.end()})
    expect(report.summary.connections).toBe(total)
  })

  it('says so on each connection finished early, and still judges it', () => {
    const closed: ConnectionReport[] = []
    const analyzer = new Analyzer({policy: buildPolicy({}), maxHalfOpenConnections: 100, onConnection: (c) => closed.push(c), maxReportedConnections: 0})
    const parser = createCaptureParser(analyzer.sink)
    parser.push(FILE_HEADER)
    parser.push(synRecords(0, 150))
    expect(closed.map((c) => c.id)).toEqual(Array.from({length: 50}, (_, i) => i + 1))
    const first = closed[0]!
    expect(first.facts.issues.map((i) => i.code)).toEqual(['stream.half-open-limit'])
    expect(first.checks.find((c) => c.id === 'tcp.syn')?.status).toBe('pass')
    // Finished 0.1 s after its SYN (syn-flood.ts: 1,000 SYNs a second): too early to call it unanswered.
    expect(first.checks.find((c) => c.id === 'tcp.syn-ack')?.status).toBe('warn')
  })
})
