/**
 * `defender-check capture --probe`: starts the capture just before the probe connects, stops it
 * when the probe is done, analyses that one connection with the probe's own keys, and reports
 * the probe's view and the wire's view side by side.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Analyzer, summarizeConnections} from '../analysis/analyzer.js'
import {liveOptions, progressSink, type CaptureLiveOptions} from '../analysis/live-analysis.js'
import type {AnalysisReport, ConnectionReport} from '../model/report.js'
import {LiveCapture} from '../capture/tcpdump.js'
import {writePcapng} from '../capture/pcapng-writer.js'
import {deliverFrame} from '../capture/sink.js'
import type {CaptureFileFormat, CaptureSink, CaptureSummary, RawFrame} from '../capture/types.js'
import {UsageError} from '../errors.js'
import type {Issue} from '../issues.js'
import {loadKeyStore} from '../keys/store.js'
import {prepareProbe, type ProbeInput} from './index.js'
import {runProbe} from './probe.js'
import {probeConnection} from './report.js'
import type {ProbeFacts} from '../model/probe.js'

/** After the probe closes, the last FIN/ACKs are still in flight: give tcpdump this long to see them. */
const CAPTURE_TAIL_MS = 300

export interface CaptureProbeOptions extends Omit<CaptureLiveOptions, 'policy' | 'filter' | 'count' | 'durationMs'> {
  probe: ProbeInput
}

/**
 * `capture --probe`: tcpdump on the probe's own connection (filter: the resolved address and
 * port), the probe, then the analysis of that exact connection (matched by the probe's local
 * address and port). The probe's key log is always written, for decryption: to --keylog, else
 * beside -w FILE (FILE.keylog), both kept and named in the report; else into a private temporary
 * directory that is removed when the analysis is done, failed or not, and at process exit.
 */
export async function captureWithProbe(options: CaptureProbeOptions): Promise<AnalysisReport> {
  if (options.probe.proxy !== undefined) throw new UsageError('capture --probe analyses a direct connection: --proxy is not supported with it')
  const asked = options.probe.keylogFile ?? (options.writeFile !== undefined ? `${options.writeFile}.keylog` : undefined)
  const scratch = asked === undefined ? new ScratchKeylog() : undefined
  try {
    const keylogFile = asked ?? scratch!.file
    const report = await probeAndCapture(options, keylogFile)
    // The scratch file is gone once this returns: the report does not point at it.
    if (asked === undefined) return {...report, connections: report.connections.map(({facts, ...connection}) => ({...connection, facts: 'keylogFile' in facts ? {...facts, keylogFile: undefined} : facts}))}
    const kept: Issue = {code: 'probe.keylog-kept', severity: 'info', message: `the probe's TLS secrets are kept in ${asked} (NSS key log): whoever reads it can decrypt this session; delete it when done`}
    return {...report, source: {...report.source, issues: [...report.source.issues, kept]}}
  } finally {
    scratch?.remove()
  }
}

/**
 * A key log nobody asked to keep: in a directory of its own (mkdtemp: mode 0700, a name nobody
 * can guess or pre-create), removed with its directory once the analysis has read it, on an
 * error, and at exit (an 'exit' listener, for a process ended by process.exit mid-run).
 */
class ScratchKeylog {
  private readonly dir = mkdtempSync(join(tmpdir(), 'defender-check-keylog-'))
  readonly file = join(this.dir, 'probe.keylog')
  private readonly onExit = () => this.remove()

  constructor() {
    process.once('exit', this.onExit)
  }

  remove(): void {
    process.off('exit', this.onExit)
    rmSync(this.dir, {recursive: true, force: true})
  }
}

async function probeAndCapture(options: CaptureProbeOptions, keylogFile: string): Promise<AnalysisReport> {
  const {options: probeOptions, policy} = prepareProbe({...options.probe, keylogFile, noEnvProxy: true})
  // The wire is analysed once the probe is done and its key log complete: decrypting while
  // capturing would race the probe's 'keylog' events against tcpdump's pipe. The capture holds
  // one connection, so its frames are kept (copied: reader buffers are reused) until then.
  const frames = new HeldFrames(MAX_HELD_FRAMES)
  const counter = progressSink(frames.sink, policy.ports, options.onProgress)
  let live: LiveCapture | undefined
  let filter = ''
  const onExit = () => live?.kill()
  process.once('exit', onExit)
  try {
    probeOptions.beforeConnect = async (addresses, port) => {
      const hosts = addresses.map((a) => `host ${a}`).join(' or ')
      filter = `tcp and port ${port}${hosts ? ` and (${hosts})` : ''}`
      // -w is written at the end, as pcapng with the probe's keys embedded: not tcpdump's pcap.
      live = await LiveCapture.start({...liveOptions(options, filter), writeFile: undefined}, counter.sink)
    }
    const facts = await runProbe(probeOptions)
    const issues: Issue[] = []
    let capture: CaptureSummary | undefined
    if (live) {
      await new Promise((resolve) => setTimeout(resolve, CAPTURE_TAIL_MS))
      live.stop()
      capture = await live.done
    } else {
      issues.push({code: 'probe.no-capture', severity: 'info', message: 'nothing was captured: the probe failed before it connected (see dns.resolve)'})
    }
    const {store: keys} = await loadKeyStore(existsSync(keylogFile) ? [keylogFile] : [], {})
    if (options.writeFile !== undefined && capture) {
      await writePcapng(options.writeFile, {
        linkType: capture.linkTypes[0] ?? 0,
        snaplen: capture.snaplen,
        frames: frames.held,
        tlsKeyLog: existsSync(keylogFile) ? readFileSync(keylogFile) : undefined,
      })
    }
    const analyzer = new Analyzer({...options, policy, keys})
    frames.replay(analyzer.sink)
    if (frames.dropped > 0) {
      issues.push({code: 'probe.capture-limit', severity: 'warn', message: `the capture held more than ${MAX_HELD_FRAMES} frames; the ${frames.dropped} after them were not analysed`})
    }
    const wire = analyzer.finish({kind: 'live', name: options.interface, capture})
    return sideBySide(facts, policy, wire, filter, issues)
  } finally {
    counter.stop()
    process.off('exit', onExit)
  }
}

/** Frames of the probe's connection, up to a limit (a --hold of minutes with pings stays far below it). */
const MAX_HELD_FRAMES = 200_000

/**
 * The frames of one capture, copied (reader buffers are reused) and replayed later into another
 * sink as the reader would have delivered them: the format first, then each frame through the
 * sink's fast path (CaptureSink's contract, capture/sink.ts).
 */
export class HeldFrames {
  private readonly frames: RawFrame[] = []
  private format: CaptureFileFormat | undefined
  dropped = 0
  readonly sink: CaptureSink = {
    frame: (frame) => {
      if (this.frames.length >= this.limit) {
        this.dropped++
        return
      }
      this.frames.push({...frame, data: frame.data.slice()})
    },
    format: (format) => {
      this.format = format
    },
  }

  constructor(private readonly limit: number) {}

  get held(): readonly RawFrame[] {
    return this.frames
  }

  replay(sink: CaptureSink): void {
    if (this.format !== undefined) sink.format?.(this.format)
    for (const frame of this.frames) deliverFrame(sink, frame)
    this.frames.length = 0
  }
}

/** The probe's connection (#1) and the wire's view of the same 4-tuple (#2), in one report. */
function sideBySide(facts: ProbeFacts, policy: AnalysisReport['policy'], wire: AnalysisReport, filter: string, issues: Issue[]): AnalysisReport {
  const probe = probeConnection(facts, policy, 1)
  const local = facts.tcp.local
  const lastAttempt = facts.tcp.attempts[facts.tcp.attempts.length - 1]
  // A connection that succeeded has a local endpoint; a refused one does not: then its server
  // address is the one tried last, and the latest such connection on the wire is the probe's.
  const seen = wire.connections.filter((c) =>
    local
      ? c.client.port === local.port && sameIp(c.client.ip, local.ip)
      : lastAttempt !== undefined && c.server.port === facts.target.port && sameIp(c.server.ip, lastAttempt.address),
  )
  const connections: ConnectionReport[] = [probe]
  const onWire = local ? seen.slice(0, 1) : seen.slice(-1)
  for (const c of onWire) connections.push({...c, id: 2})
  if (facts.tcp.attempts.length > 0 && onWire.length === 0) {
    issues.push({code: 'probe.not-on-wire', severity: 'warn', message: `the probe's connection was not seen by tcpdump (filter ${JSON.stringify(filter)}): a capture on another interface, or a packet filter before the capture point`})
  }
  return {
    ...wire,
    source: {...wire.source, issues: [...wire.source.issues, ...issues]},
    connections,
    summary: summarizeConnections(connections, wire.policy),
    otherTraffic: undefined,
  }
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) as node reports it on dual-stack sockets is the same address. */
function sameIp(a: string, b: string): boolean {
  const plain = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase()
  return plain(a) === plain(b)
}
