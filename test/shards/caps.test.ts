/**
 * A cap that one tracker acts on (here maxConnections 3 on eight Defenders' overlapping sessions:
 * the least recently active connection is finished early) cannot be seen by a shard. The sharded
 * analysis notices that the shards' open connections together may have reached it, says so, and
 * analyses the capture again on one thread without handing on twice what it already handed on:
 * the connections (as their NDJSON lines) and the report are those of one thread.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {ndjsonConnectionLine, ndjsonConnectionLineOfText} from '../../src/report/ndjson.js'
import {renderJson} from '../../src/report/json.js'
import {analyzeCaptureSharded} from '../../src/shards/analyze-sharded.js'
import type {CaptureReport} from '../../src/model/report.js'
import {FIXTURES} from '../helpers/paths.js'

const CAPTURE = join(FIXTURES, 'fleet', 'console-relay', 'capture.pcap')

/** One thread's connections as NDJSON lines, and its report. */
async function oneThread(maxConnections?: number): Promise<{lines: string[]; report: CaptureReport}> {
  const lines: string[] = []
  const report = await analyzeCapture(CAPTURE, {policy: buildPolicy({}), maxConnections, maxReportedConnections: 0, onConnection: (connection) => lines.push(ndjsonConnectionLine(connection, CAPTURE))})
  return {lines, report}
}

/** Three shards' connections as NDJSON lines (from their text, or from one thread's reports after a note), their notes and report. */
async function threeShards(maxConnections?: number): Promise<{lines: string[]; notes: string[]; report: CaptureReport}> {
  const lines: string[] = []
  const notes: string[] = []
  const report = await analyzeCaptureSharded(CAPTURE, {
    policy: buildPolicy({}),
    jobs: 3,
    maxConnections,
    maxReportedConnections: 0,
    keylogFiles: [],
    output: {kind: 'text', onConnectionText: (text) => lines.push(ndjsonConnectionLineOfText(text, CAPTURE))},
    onConnection: (connection) => lines.push(`one thread: ${ndjsonConnectionLine(connection, CAPTURE)}`),
    onNote: (note) => notes.push(note),
  })
  return {lines, notes, report}
}

describe('a cap a shard cannot see', () => {
  it('is noticed, said, and the run finished on one thread with the same connections and report', async () => {
    const one = await oneThread(3)
    // The cap acted on one thread: connections were finished early.
    expect(one.lines.filter((line) => line.includes('"stream.connection-limit"')).length).toBeGreaterThan(0)
    const three = await threeShards(3)
    expect(three.notes).toHaveLength(1)
    expect(three.notes[0]).toMatch(/^the 3 shards together held more connections than a cap allows \(3 connections, .*analysed again on one thread \(the first \d+ connections/)
    // Those handed on before the note came from the shards; the rest from one thread.
    const handedOn = Number(/the first (\d+) connections/.exec(three.notes[0]!)![1])
    expect(three.lines.slice(0, handedOn).every((line) => !line.startsWith('one thread: '))).toBe(true)
    expect(three.lines.slice(handedOn).every((line) => line.startsWith('one thread: '))).toBe(true)
    expect(three.lines.map((line) => line.replace(/^one thread: /, ''))).toEqual(one.lines)
    expect(renderJson(three.report)).toBe(renderJson(one.report))
  }, 120_000)

  it('under every cap, three shards hand on what one thread does, without a note', async () => {
    const one = await oneThread()
    const three = await threeShards()
    expect(three.notes).toEqual([])
    expect(one.lines.length).toBeGreaterThan(30)
    expect(three.lines).toEqual(one.lines)
    expect(renderJson(three.report)).toBe(renderJson(one.report))
  }, 120_000)
})
