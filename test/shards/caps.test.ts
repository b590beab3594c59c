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
import {FIXTURES} from '../helpers/paths.js'

const CAPTURE = join(FIXTURES, 'fleet', 'console-relay', 'capture.pcap')

describe('a cap a shard cannot see', () => {
  it('is noticed, said, and the run finished on one thread with the same connections and report', async () => {
    const policy = buildPolicy({})
    const one: string[] = []
    const single = await analyzeCapture(CAPTURE, {policy, maxConnections: 3, maxReportedConnections: 0, onConnection: (report) => one.push(ndjsonConnectionLine(report, CAPTURE))})
    // The cap acted on one thread: connections were finished early.
    const evicted = one.filter((line) => line.includes('"stream.connection-limit"')).length
    expect(evicted).toBeGreaterThan(0)

    const sharded: string[] = []
    const notes: string[] = []
    const report = await analyzeCaptureSharded(CAPTURE, {
      policy,
      jobs: 3,
      maxConnections: 3,
      maxReportedConnections: 0,
      keylogFiles: [],
      output: {kind: 'text', onConnectionText: (text) => sharded.push(ndjsonConnectionLineOfText(text, CAPTURE))},
      onConnection: (connection) => sharded.push(ndjsonConnectionLine(connection, CAPTURE)),
      onNote: (note) => notes.push(note),
    })
    expect(notes).toHaveLength(1)
    expect(notes[0]).toMatch(/^the 3 workers together held more connections than a cap allows \(3 connections, .*analysed again on one thread \(the first \d+ connections/)
    expect(sharded).toEqual(one)
    expect(renderJson(report)).toBe(renderJson(single))
  }, 120_000)

  it('under every cap, three shards hand on what one thread does, without a note', async () => {
    const policy = buildPolicy({})
    const one: string[] = []
    const single = await analyzeCapture(CAPTURE, {policy, maxReportedConnections: 0, onConnection: (report) => one.push(ndjsonConnectionLine(report, CAPTURE))})
    const sharded: string[] = []
    const notes: string[] = []
    const report = await analyzeCaptureSharded(CAPTURE, {
      policy,
      jobs: 3,
      maxReportedConnections: 0,
      keylogFiles: [],
      output: {kind: 'text', onConnectionText: (text) => sharded.push(ndjsonConnectionLineOfText(text, CAPTURE))},
      onConnection: () => {
        throw new Error('the one-thread path was taken')
      },
      onNote: (note) => notes.push(note),
    })
    expect(notes).toEqual([])
    expect(one.length).toBeGreaterThan(30)
    expect(sharded).toEqual(one)
    expect(renderJson(report)).toBe(renderJson(single))
  }, 120_000)
})
