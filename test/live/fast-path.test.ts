/**
 * Issue 17 item 2: the two sink wrappers of live captures kept only frame(). `capture` on a
 * terminal wraps the Analyzer's sink in progressSink, and `capture --probe` holds tcpdump's
 * frames and replays them (HeldFrames): both lost the fast path (skipFrame: every frame was
 * copied into a RawFrame and prefiltered a second time) and the capture's format, so a classic
 * pcap (tcpdump's pipe) never sealed the key store. Driven here at the library level with a real
 * fixture's frames through the real capture parser, as tcpdump's pipe feeds them.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {progressSink, type LiveProgress} from '../../src/analysis/live-analysis.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import type {CaptureSink} from '../../src/capture/types.js'
import {KeyStore} from '../../src/keys/store.js'
import {HeldFrames} from '../../src/probe/capture-probe.js'
import {FIXTURES} from '../helpers/paths.js'

// A TLS 1.3 mTLS WebSocket connection on port 8084, captured by tcpdump (classic pcap).
const PCAP = readFileSync(join(FIXTURES, 'tls', 'openssl13-mtls', 'capture.pcap'))

/** An Analyzer whose fast-path questions are counted. */
function countedAnalyzer(): {analyzer: Analyzer; keys: KeyStore; asked: () => number} {
  const keys = new KeyStore()
  const analyzer = new Analyzer({policy: buildPolicy({}), keys})
  const sink = analyzer.sink as Required<CaptureSink>
  const skipFrame = sink.skipFrame
  let asked = 0
  sink.skipFrame = (...args) => {
    asked++
    return skipFrame(...args)
  }
  return {analyzer, keys, asked: () => asked}
}

describe('progressSink (capture on a terminal)', () => {
  it('keeps the fast path and passes the format on: a classic pcap seals the key store', () => {
    const {analyzer, keys, asked} = countedAnalyzer()
    const seen: LiveProgress[] = []
    const counter = progressSink(analyzer.sink, [8084], (p) => seen.push({...p}))
    const parser = createCaptureParser(counter.sink)
    parser.push(PCAP)
    const capture = parser.end()
    counter.stop()
    expect(capture.frames).toBeGreaterThan(10)
    expect(asked()).toBe(capture.frames)
    expect(keys.sealed).toBe(true)
    // The progress line still counts every frame and the one connection attempt.
    expect(seen.at(-1)).toMatchObject({packets: capture.frames, connections: 1})
    const report = analyzer.finish({kind: 'live', name: 'lo', capture})
    expect(report.summary.connections).toBe(1)
  })
})

describe('HeldFrames (capture --probe)', () => {
  it('replays the held frames through the fast path, after the capture format', () => {
    const held = new HeldFrames(1000)
    const parser = createCaptureParser(held.sink)
    parser.push(PCAP)
    const capture = parser.end()
    const {analyzer, keys, asked} = countedAnalyzer()
    held.replay(analyzer.sink)
    expect(capture.frames).toBeGreaterThan(10)
    expect(asked()).toBe(capture.frames)
    expect(keys.sealed).toBe(true)
    const report = analyzer.finish({kind: 'live', name: 'lo', capture})
    expect(report.summary.connections).toBe(1)
  })
})
