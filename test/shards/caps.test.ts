/**
 * A cap that one tracker acts on (here maxConnections 3 on eight Defenders' overlapping sessions:
 * the least recently active connection is finished early) cannot be seen by a shard. The sharded
 * analysis notices that the shards' open connections together may have reached it, says so, and
 * analyses the capture again on one thread without handing on twice what it already handed on:
 * the connections (as their NDJSON lines) and the report are those of one thread. The captures
 * are real ones: the fleet fixture, and for a cap reached late, real sessions put one after
 * another before it with Wireshark's editcap and mergecap.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {ndjsonConnectionLine, ndjsonConnectionLineOfText} from '../../src/report/ndjson.js'
import {renderJson} from '../../src/report/json.js'
import {analyzeCaptureSharded} from '../../src/shards/analyze-sharded.js'
import type {CaptureReport} from '../../src/model/report.js'
import {FIXTURES} from '../helpers/paths.js'
import {requireTool} from '../helpers/tools.js'

const CAPTURE = join(FIXTURES, 'fleet', 'console-relay', 'capture.pcap')

/** One thread's connections as NDJSON lines, and its report. */
async function oneThread(maxConnections?: number, capture = CAPTURE): Promise<{lines: string[]; report: CaptureReport}> {
  const lines: string[] = []
  const report = await analyzeCapture(capture, {policy: buildPolicy({}), maxConnections, maxReportedConnections: 0, onConnection: (connection) => lines.push(ndjsonConnectionLine(connection, capture))})
  return {lines, report}
}

/** Three shards' connections as NDJSON lines (from their text, or from one thread's reports after a note), their notes and report. */
async function threeShards(maxConnections?: number, capture = CAPTURE, readBytes?: number): Promise<{lines: string[]; notes: string[]; report: CaptureReport}> {
  const lines: string[] = []
  const notes: string[] = []
  const report = await analyzeCaptureSharded(capture, {
    policy: buildPolicy({}),
    jobs: 3,
    readBytes,
    maxConnections,
    maxReportedConnections: 0,
    keylogFiles: [],
    output: {kind: 'text', onConnectionText: (text) => lines.push(ndjsonConnectionLineOfText(text, capture))},
    onConnection: (connection) => lines.push(`one thread: ${ndjsonConnectionLine(connection, capture)}`),
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

  it('after connections were handed on: those are not handed on twice', async () => {
    requireTool('tshark')
    // Five sessions one after another (one real openssl session, 40 s apart: past the tombstone's
    // 30 s, so each is a new connection), then the fleet's eight Defenders at once: the shards
    // hand on the five before their peaks pass the cap. Read 4 KiB at a time, so the shards
    // report often.
    const dir = mkdtempSync(join(tmpdir(), 'defender-check-caps-'))
    try {
      const single = join(FIXTURES, 'tls', 'openssl13-mtls', 'capture.pcap')
      const parts = [0, 1, 2, 3, 4].map((i) => {
        const part = join(dir, `session-${i}.pcap`)
        const shifted = spawnSync('editcap', ['-t', String(i * 40), single, part], {encoding: 'utf8'})
        expect(shifted.status, `editcap (apt-get install -y tshark): ${shifted.stderr}`).toBe(0)
        return part
      })
      const capture = join(dir, 'sessions-then-fleet.pcapng')
      const merged = spawnSync('mergecap', ['-w', capture, ...parts, CAPTURE], {encoding: 'utf8'})
      expect(merged.status, `mergecap (apt-get install -y tshark): ${merged.stderr}`).toBe(0)
      const one = await oneThread(6, capture)
      expect(one.lines.filter((line) => line.includes('"stream.connection-limit"')).length).toBeGreaterThan(0)
      const three = await threeShards(6, capture, 4096)
      expect(three.notes).toHaveLength(1)
      const handedOn = Number(/the first (\d+) connections/.exec(three.notes[0]!)![1])
      expect(handedOn).toBeGreaterThan(0)
      expect(three.lines.slice(0, handedOn).every((line) => !line.startsWith('one thread: '))).toBe(true)
      expect(three.lines.slice(handedOn).every((line) => line.startsWith('one thread: '))).toBe(true)
      expect(three.lines.map((line) => line.replace(/^one thread: /, ''))).toEqual(one.lines)
      expect(renderJson(three.report)).toBe(renderJson(one.report))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
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
