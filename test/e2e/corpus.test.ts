/**
 * The public JA4 corpus through the whole pipeline (reader → decoders → tracker → TLS reader →
 * checks): every file is read without a crash, every TCP connection FoxIO's tooling lists is one
 * we report (same client and server), and every ClientHello's JA4 / JA4_r is the expected one.
 * test/corpus/tcp-entries.json is derived from the corpus's expected/*.json by
 * test/corpus/make-tcp-entries.py (tshark tells which entries are TCP).
 */
import {readFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {CaptureReport as AnalysisReport, ConnectionReport as AnyConnectionReport} from '../../src/model/report.js'
import type {ConnectionFacts} from '../../src/model/facts.js'

type ConnectionReport = AnyConnectionReport<ConnectionFacts>
import {CORPUS_PCAPS, ROOT, corpusFiles} from '../helpers/paths.js'
import {describeWithJa4} from '../helpers/skip.js'

interface TcpEntry {
  capture: string
  stream: number
  /** false for JA4H entries, whose src/dst follow the HTTP message, not the connection. */
  oriented: boolean
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

function reversed(entry: TcpEntry): TcpEntry {
  return {...entry, client: entry.server, server: entry.client}
}

/**
 * Same client and server. Inside a tunnel, FoxIO's tool names the outer (tunnel) addresses with
 * the inner ports, while we report the inner flow and keep the tunnel endpoints as facts: either
 * pair of addresses matches.
 */
function sameConnection(c: ConnectionReport, entry: TcpEntry): boolean {
  if (c.client.port !== entry.client.port || c.server.port !== entry.server.port) return false
  if (c.client.ip === entry.client.ip && c.server.ip === entry.server.ip) return true
  const tunnel = c.facts.tunnels?.[0]
  if (!tunnel) return false
  const outer = new Set([tunnel.outerSrc, tunnel.outerDst])
  return outer.has(entry.client.ip) && outer.has(entry.server.ip) && entry.client.ip !== entry.server.ip
}

describeWithJa4('JA4 corpus', () => {
  it.each(corpusFiles().map((file) => basename(file)))('%s is analysed without a crash', async (capture) => {
    const report = await analyzed(capture)
    expect(report.source.frames).toBeGreaterThan(0)
    expect(report.summary.connections).toBe(report.connections.length)
  })

  it.each(entries.map((e) => [`${e.capture} stream ${e.stream}${e.oriented ? '' : ' (JA4H, either direction)'}`, e] as const))(
    '%s: the TCP connection is reported with the same client and server',
    async (_name, entry) => {
      const report = await analyzed(entry.capture)
      const match = report.connections.filter((c) => sameConnection(c, entry) || (!entry.oriented && sameConnection(c, reversed(entry))))
      expect(match.length, `connections: ${report.connections.map((c) => `${c.client.ip}:${c.client.port}>${c.server.ip}:${c.server.port}`).join(' ')}`).toBeGreaterThanOrEqual(1)
    },
  )

  it('tcpdump-geneve.pcap: one connection although each direction has its own VNI, tunnel kept as facts', async () => {
    const report = await analyzed('tcpdump-geneve.pcap')
    expect(report.connections.map((c) => `${c.client.ip}:${c.client.port}>${c.server.ip}:${c.server.port}`)).toEqual(['30.0.0.2:51225>30.0.0.1:22'])
    // Values from tshark: -e ip.src -e ip.dst -e geneve.vni on the SYN (frame 3).
    expect(report.connections[0].facts.tunnels?.map((t) => [t.type, t.vni, t.outerSrc, t.outerDst])).toEqual([['geneve', 0x0b, '20.0.0.2', '20.0.0.1']])
    // The server's packets (the SYN-ACK, frame 4) come in VNI 10 with one option; tshark on frame 4:
    // geneve.vni 0x00000a, geneve.option.class 0x0000, geneve.option.type 0x80 (critical), geneve.option.length 8, data 0000000c.
    expect(report.connections[0].facts.replyTunnels).toEqual([
      {type: 'geneve', vni: 0x0a, outerSrc: '20.0.0.1', outerDst: '20.0.0.2', options: [{optionClass: 0, type: 0x80, critical: true, length: 8, data: '0000000c'}]},
    ])
  })

  const hellos = entries.flatMap((e) => e.clientHellos.map((hello, i) => [`${e.capture} stream ${e.stream} ClientHello ${i + 1}`, e, i] as const))
  it('covers the corpus ClientHellos', () => {
    expect(hellos.length).toBeGreaterThanOrEqual(150)
  })
  it.each(hellos)('%s: JA4 and JA4_r match', async (_name, entry, index) => {
    const report = await analyzed(entry.capture)
    const conn = report.connections.find((c) => sameConnection(c, entry))
    const hello = conn?.facts.tls?.clientHellos[index]
    expect(hello?.ja4).toBe(entry.clientHellos[index].ja4)
    expect(hello?.ja4r).toBe(entry.clientHellos[index].ja4r)
    if (entry.sni) expect(hello?.sni).toBe(entry.sni)
  })
})
