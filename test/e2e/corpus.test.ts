/**
 * The public JA4 corpus through the whole pipeline (reader → decoders → tracker → TLS reader →
 * checks): every file is read without a crash, every TCP connection FoxIO's tooling lists is one
 * we report (same client and server), and every ClientHello's JA4 / JA4_r is the expected one.
 * test/corpus/tcp-entries.json is derived from the corpus's expected/*.json by
 * test/corpus/make-tcp-entries.py (tshark tells which entries are TCP).
 */
import {readFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {AnalysisReport} from '../../src/analysis/types.js'
import {CORPUS_PCAPS, ROOT, corpusFiles} from '../helpers/paths.js'

interface TcpEntry {
  capture: string
  stream: number
  client: {ip: string; port: number}
  server: {ip: string; port: number}
  sni?: string
  clientHellos: Array<{ja4: string; ja4r: string}>
}

const entries = JSON.parse(readFileSync(join(ROOT, 'test', 'corpus', 'tcp-entries.json'), 'utf8')) as TcpEntry[]
const anyPort = buildPolicy({ports: ['any']})
const reports = new Map<string, Promise<AnalysisReport>>()
function analyzed(capture: string): Promise<AnalysisReport> {
  let report = reports.get(capture)
  if (!report) {
    report = analyzeCapture(join(CORPUS_PCAPS, capture), {policy: anyPort})
    reports.set(capture, report)
  }
  return report
}

describe('JA4 corpus', () => {
  it.each(corpusFiles().map((file) => basename(file)))('%s is analysed without a crash', async (capture) => {
    const report = await analyzed(capture)
    expect(report.source.frames).toBeGreaterThan(0)
    expect(report.summary.connections).toBe(report.connections.length)
  })

  it.each(entries.map((e) => [`${e.capture} stream ${e.stream}`, e] as const))('%s: the TCP connection is reported with the same client and server', async (_name, entry) => {
    const report = await analyzed(entry.capture)
    const match = report.connections.filter(
      (c) =>
        c.client.ip === entry.client.ip &&
        c.client.port === entry.client.port &&
        c.server.ip === entry.server.ip &&
        c.server.port === entry.server.port,
    )
    expect(match.length, `connections: ${report.connections.map((c) => `${c.client.ip}:${c.client.port}>${c.server.ip}:${c.server.port}`).join(' ')}`).toBeGreaterThanOrEqual(1)
  })

  const hellos = entries.flatMap((e) => e.clientHellos.map((hello, i) => [`${e.capture} stream ${e.stream} ClientHello ${i + 1}`, e, i] as const))
  it('covers the corpus ClientHellos', () => {
    expect(hellos.length).toBeGreaterThanOrEqual(150)
  })
  it.each(hellos)('%s: JA4 and JA4_r match', async (_name, entry, index) => {
    const report = await analyzed(entry.capture)
    const conn = report.connections.find(
      (c) => c.client.ip === entry.client.ip && c.client.port === entry.client.port && c.server.ip === entry.server.ip && c.server.port === entry.server.port,
    )
    const hello = conn?.facts.tls?.clientHellos[index]
    expect(hello?.ja4).toBe(entry.clientHellos[index].ja4)
    expect(hello?.ja4r).toBe(entry.clientHellos[index].ja4r)
    if (entry.sni) expect(hello?.sni).toBe(entry.sni)
  })
})
