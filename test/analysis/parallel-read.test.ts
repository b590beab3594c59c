/**
 * Reading through the capture worker (src/analysis/parallel-read.ts) gives the report the
 * single-threaded path gives: on every fixture capture and every corpus file, with the Console
 * port on the traffic (connections to analyse) and off it (every frame passed over in the worker,
 * so the "seen instead" servers come from its counts), and the same error, at the same offset,
 * for a corrupt file. Each run starts a real worker thread.
 */
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join, relative} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {ServerCounter} from '../../src/analysis/server-counter.js'
import type {CaptureReport} from '../../src/analysis/types.js'
import type {CaptureFormatError} from '../../src/capture/types.js'
import {renderJson} from '../../src/report/json.js'
import {CORPUS_PCAPS, FIXTURES, corpusFiles} from '../helpers/paths.js'

function captures(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...captures(path))
    else if (/\.(pcap|pcapng|cap)$/.test(entry.name)) found.push(path)
  }
  return found.sort()
}

type Outcome = {report: string} | {error: {name: string; code?: string; offset?: number; file?: string; message: string}}

async function outcome(file: string, ports: string[], parallelRead: boolean, readBytes?: number): Promise<Outcome> {
  const progress: number[] = []
  try {
    const report: CaptureReport = await analyzeCapture(file, {
      policy: buildPolicy({ports}),
      parallelRead,
      readBytes,
      onProgress: (bytes) => progress.push(bytes),
    })
    // Progress runs forwards and ends at the file's size, whichever thread read it.
    expect(progress.length).toBeGreaterThan(0)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress)
    expect(progress.at(-1)).toBe(statSync(file).size)
    return {report: renderJson(report)}
  } catch (err) {
    const e = err as CaptureFormatError
    return {error: {name: e.name, code: e.code, offset: e.offset, file: e.file, message: e.message}}
  }
}

const fixtureCaptures = captures(FIXTURES).filter((file) => !file.endsWith('.gz'))
const corpus = corpusFiles().filter((file) => /\.(pcap|pcapng|cap)$/.test(file))

describe('the capture worker gives the single-threaded report', () => {
  it.each(fixtureCaptures.map((file) => relative(FIXTURES, file)))('fixtures/%s', async (name) => {
    const file = join(FIXTURES, name)
    const single = await outcome(file, ['8084'], false)
    expect('report' in single).toBe(true)
    expect(await outcome(file, ['8084'], true)).toEqual(single)
  })

  it.each(corpus.map((file) => basename(file)))('corpus %s, port 443 and port 8084', async (name) => {
    const file = join(CORPUS_PCAPS, name)
    for (const ports of [['443'], ['8084']]) {
      const single = await outcome(file, ports, false)
      // Small reads: batches and records cut across reads in the worker too.
      expect(await outcome(file, ports, true, 4093), `ports ${ports.join(',')}`).toEqual(single)
    }
  })

  describe('a capture damaged part way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parallel-read-'))
    afterAll(() => rmSync(dir, {recursive: true, force: true}))
    const sshScp = readFileSync(join(CORPUS_PCAPS, 'ssh-scp-1050.pcap'))
    // Frame 559 of ssh-scp-1050.pcap: record header at 501405, caplen 1514 (test/capture/errors.test.ts).
    const FRAME_559 = 501_405
    const written = (name: string, bytes: Uint8Array) => {
      const path = join(dir, name)
      writeFileSync(path, bytes)
      return path
    }

    it('ends in the same CaptureFormatError, at the same offset', async () => {
      const bad = Buffer.from(sshScp)
      bad.writeUInt32LE(0xfffffff0, FRAME_559 + 8)
      // Port 22: the frames before the damage are a connection being analysed when it comes.
      const file = written('bad-caplen.pcap', bad)
      const single = await outcome(file, ['22'], false)
      expect(single).toEqual({error: expect.objectContaining({code: 'BAD_CAPLEN', offset: FRAME_559, file})})
      expect(await outcome(file, ['22'], true)).toEqual(single)
      expect(await outcome(file, ['22'], true, 4093)).toEqual(single)
    })

    it('reports a cut last record as a truncated tail, the frames before it analysed', async () => {
      const file = written('cut.pcap', sshScp.subarray(0, 500_000))
      const single = await outcome(file, ['22'], false)
      const report = JSON.parse((single as {report: string}).report) as CaptureReport
      expect(report.source.issues.map((issue) => issue.code)).toContain('capture.truncated')
      expect(report.source.frames).toBe(557)
      expect(report.summary.connections).toBe(1)
      expect(await outcome(file, ['22'], true)).toEqual(single)
    })
  })

  it('hands over the keys of a Decryption Secrets Block: the handshake is decrypted', async () => {
    const dsb = fixtureCaptures.find((file) => file.includes('node-mtls-dsb'))!
    const single = await outcome(dsb, ['8084'], false)
    expect(await outcome(dsb, ['8084'], true)).toEqual(single)
    const report = JSON.parse((single as {report: string}).report) as CaptureReport
    expect(report.source.keys?.decryptionSecretsBlocks).toBeGreaterThan(0)
    expect(report.connections.some((c) => c.checks.some((check) => check.id === 'tls.finished' && check.status === 'pass' && check.confidence === 'observed'))).toBe(true)
  })

  it('without Console traffic, names the servers seen instead from the worker\'s counts', async () => {
    const file = join(CORPUS_PCAPS, 'tls-sni.pcapng')
    const report = JSON.parse(((await outcome(file, ['8084'], true)) as {report: string}).report) as CaptureReport
    expect(report.summary.connections).toBe(0)
    expect(report.otherTraffic!.servers.length).toBe(10)
  })

  it('a missing file is the usual READ error, not a worker failure', async () => {
    const result = await outcome(join(FIXTURES, 'no-such.pcap'), ['8084'], true)
    expect(result).toEqual(await outcome(join(FIXTURES, 'no-such.pcap'), ['8084'], false))
    expect('error' in result && result.error.code).toBe('READ')
  })
})

describe('ServerCounter.merge', () => {
  it('ranks as one counter over all the frames would: packets summed, ties by the first frame', () => {
    const address = (last: number) => Uint8Array.of(10, 0, 0, last)
    const frames: Array<[number, number, number]> = [
      // [frame, last address byte, port]
      [1, 5, 443],
      [2, 6, 443],
      [3, 5, 443],
      [4, 7, 80],
      [5, 6, 443],
      [6, 8, 22],
      [7, 7, 80],
    ]
    const one = new ServerCounter(100)
    const even = new ServerCounter(100)
    const odd = new ServerCounter(100)
    for (const [frame, last, port] of frames) {
      one.countBytes(address(last), 0, false, port, frame)
      ;(frame % 2 === 0 ? even : odd).countBytes(address(last), 0, false, port, frame)
    }
    odd.merge(even.counts())
    expect(odd.top(10)).toEqual(one.top(10))
    expect(one.top(10)).toEqual([
      {ip: '10.0.0.5', port: 443, packets: 2},
      {ip: '10.0.0.6', port: 443, packets: 2},
      {ip: '10.0.0.7', port: 80, packets: 2},
      {ip: '10.0.0.8', port: 22, packets: 1},
    ])
  })
})
