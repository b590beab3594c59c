/**
 * The analysis driver: frames in, AnalysisReport out. Data flows down once:
 *   RawFrame → decodePacket → ConnectionTracker (reassembly) → TLS reader → ConnectionFacts
 *   → checks → report.
 * The same Analyzer serves a saved file, stdin and a live tcpdump: it is fed frames through a
 * CaptureSink and asked for the report when the input ends.
 */
import type {CaptureSink, CaptureSummary, RawFrame} from '../capture/types.js'
import {decodePacket} from '../dissect/packet.js'
import {TCP_ACK, TCP_SYN, type Packet} from '../dissect/types.js'
import {TlsConnectionReader} from '../dissect/tls/connection.js'
import type {Issue} from '../issues.js'
import {runChecks, worstStatus} from '../checks/index.js'
import type {SnaplenIssue} from '../checks/tls-common.js'
import type {Policy} from '../checks/types.js'
import {ConnectionTracker} from '../stream/tracker.js'
import type {TrackedConnection} from '../stream/types.js'
import type {
  AnalysisReport,
  ConnectionFacts,
  ConnectionReport,
  OtherTraffic,
  SourceInfo,
  Summary,
} from './types.js'
import {evaluateCertificates, type CertificateContext} from './certificates.js'
import {KeyStore} from '../keys/store.js'
import {TOOL_VERSION} from './version.js'

export interface AnalyzerOptions {
  policy: Policy
  /** Certificate policy inputs (CA bundle already loaded), see certificates.ts. */
  certificates?: CertificateContext
  /** Most connections tracked at once. */
  maxConnections?: number
  /**
   * TLS secrets from --keylog / SSLKEYLOGFILE. The analyzer adds the capture's own Decryption
   * Secrets Blocks to it (or to a store of its own), so a pcapng made with
   * `editcap --inject-secrets` needs no flag.
   */
  keys?: KeyStore
}

/** How many distinct non-Console servers to remember for the "seen instead" hint. */
const OTHER_TRAFFIC_LIMIT = 10_000

interface ConnectionState {
  tracked: TrackedConnection
  tls: TlsConnectionReader
}

export class Analyzer {
  readonly sink: CaptureSink
  private readonly policy: Policy
  private readonly ports: Set<number>
  private readonly tracker: ConnectionTracker
  private readonly keys: KeyStore
  private readonly states = new Map<number, ConnectionState>()
  private readonly otherServers = new Map<string, number>()
  private readonly captureIssues: Issue[] = []
  private readonly issueCodesSeen = new Set<string>()
  private frames = 0
  private firstTs?: number
  private lastTs?: number
  /** Captured length of the longest frame whose TCP payload was cut: the snaplen in effect. */
  private snaplen = 0

  constructor(private readonly options: AnalyzerOptions) {
    this.policy = options.policy
    this.ports = new Set(options.policy.ports)
    this.keys = options.keys ?? new KeyStore()
    const anyPort = this.ports.size === 0
    this.tracker = new ConnectionTracker({
      isServerPort: anyPort ? () => false : (port) => this.ports.has(port),
      maxConnections: options.maxConnections,
      onConnection: (tracked) => {
        const tls = new TlsConnectionReader({keys: this.keys})
        this.states.set(tracked.id, {tracked, tls})
        return tls
      },
    })
    this.sink = {frame: (frame) => this.onFrame(frame), secrets: (block) => this.keys.addDecryptionSecrets(block)}
  }

  private onFrame(frame: RawFrame): void {
    this.frames++
    const packet = decodePacket(frame)
    if (this.firstTs === undefined) this.firstTs = packet.ts
    this.lastTs = packet.ts
    if (packet.issues) for (const issue of packet.issues) this.noteCaptureIssue(issue)
    const tcp = packet.tcp
    if (!tcp || !packet.ip) return
    if (tcp.payload.length < tcp.payloadLength && frame.data.length > this.snaplen) this.snaplen = frame.data.length
    if (this.isConsoleTraffic(packet)) this.tracker.push(packet)
    else this.noteOtherServer(packet)
  }

  /** A packet belongs to the analysis when one of its ports is a Console port (and the address matches --console IP). */
  private isConsoleTraffic(packet: Packet): boolean {
    const tcp = packet.tcp!
    const ip = packet.ip!
    const consoleIp = this.policy.consoleIp
    if (this.ports.size === 0) {
      return consoleIp === undefined || ip.src === consoleIp || ip.dst === consoleIp
    }
    if (this.ports.has(tcp.dstPort) && (consoleIp === undefined || ip.dst === consoleIp)) return true
    if (this.ports.has(tcp.srcPort) && (consoleIp === undefined || ip.src === consoleIp)) return true
    return false
  }

  /** Remember which servers were talked to instead, for the "no Console traffic" hint. */
  private noteOtherServer(packet: Packet): void {
    const tcp = packet.tcp!
    const ip = packet.ip!
    // The server is the SYN's destination, the SYN-ACK's source, else the side with the lower port.
    let serverIp: string
    let serverPort: number
    const synOnly = (tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN
    const synAck = (tcp.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)
    if (synOnly || (!synAck && tcp.dstPort < tcp.srcPort)) {
      serverIp = ip.dst
      serverPort = tcp.dstPort
    } else {
      serverIp = ip.src
      serverPort = tcp.srcPort
    }
    const key = ip.version === 6 ? `[${serverIp}]:${serverPort}` : `${serverIp}:${serverPort}`
    const count = this.otherServers.get(key)
    if (count !== undefined) this.otherServers.set(key, count + 1)
    else if (this.otherServers.size < OTHER_TRAFFIC_LIMIT) this.otherServers.set(key, 1)
  }

  /** Capture-level issues (e.g. unsupported link type) are kept once per code. */
  private noteCaptureIssue(issue: Issue): void {
    if (this.issueCodesSeen.has(issue.code)) return
    this.issueCodesSeen.add(issue.code)
    this.captureIssues.push(issue)
  }

  /** Ends the analysis: flushes the streams, assembles facts, runs the checks. */
  finish(source: Omit<SourceInfo, 'frames' | 'firstTs' | 'lastTs' | 'issues'> & {capture?: CaptureSummary}): AnalysisReport {
    const tracked = this.tracker.finish()
    const connections: ConnectionReport[] = []
    for (const conn of tracked) {
      const state = this.states.get(conn.id)
      const facts = this.assembleFacts(conn, state)
      if (!this.selectedByConsoleName(facts)) continue
      const checks = runChecks(facts, this.policy)
      connections.push({
        id: facts.id,
        client: facts.client,
        server: facts.server,
        startedAt: facts.startedAt,
        endedAt: facts.endedAt,
        facts,
        checks,
        verdict: worstStatus(checks),
      })
    }
    const issues = [...this.captureIssues]
    const tail = source.capture?.truncatedTail
    if (tail) {
      issues.push({
        code: 'capture.truncated',
        severity: 'warn',
        message: `the capture ends in the middle of a record at byte ${tail.offset} (${tail.have} of ${tail.need} bytes): tcpdump was probably stopped while writing; everything before it was analysed`,
      })
    }
    const keys = this.keys.facts()
    const report: AnalysisReport = {
      schemaVersion: 1,
      tool: {name: 'defender-check', version: TOOL_VERSION},
      source: {
        ...source,
        ...(keys && {keys}),
        frames: this.frames,
        firstTs: this.firstTs === undefined ? undefined : isoTime(this.firstTs),
        lastTs: this.lastTs === undefined ? undefined : isoTime(this.lastTs),
        issues,
      },
      policy: this.policy,
      connections,
      summary: summarize(connections, this.policy),
    }
    if (connections.length === 0) report.otherTraffic = this.otherTraffic()
    return report
  }

  private assembleFacts(conn: TrackedConnection, state: ConnectionState | undefined): ConnectionFacts {
    const tls = state?.tls.facts()
    const hasTls = tls !== undefined && (tls.clientHellos.length > 0 || tls.serverHello !== undefined || tls.records.length > 0 || tls.notTls !== undefined)
    const facts: ConnectionFacts = {
      id: conn.id,
      client: conn.client,
      server: conn.server,
      startedAt: isoTime(conn.tcp.startTs),
      endedAt: isoTime(conn.tcp.endTs),
      captureEndTs: this.lastTs,
      tcp: conn.tcp,
      issues: [...conn.issues.map((issue) => this.withSnaplen(issue)), ...(state?.tls.issues ?? [])],
    }
    if (conn.tunnels) facts.tunnels = conn.tunnels
    if (hasTls) {
      facts.tls = tls
      const certificates = evaluateCertificates(tls, this.policy, this.options.certificates)
      if (certificates) facts.certificates = certificates
    }
    return facts
  }

  /** The checks name the snaplen when payload was cut (tls-common.ts snaplenReason). */
  private withSnaplen(issue: Issue): Issue {
    if (issue.code !== 'tcp.snaplen' || this.snaplen === 0) return issue
    const cut: SnaplenIssue = {...issue, code: 'tcp.snaplen', snaplen: this.snaplen}
    return cut
  }

  /**
   * --console NAME selects by SNI where a ClientHello carries one; a connection without TLS
   * (a refused SYN) or without SNI is never dropped (DESIGN.md "Selecting traffic").
   */
  private selectedByConsoleName(facts: ConnectionFacts): boolean {
    const name = this.policy.consoleName
    if (name === undefined) return true
    const sni = facts.tls?.clientHellos[0]?.sni
    return sni === undefined || sni.toLowerCase() === name.toLowerCase()
  }

  private otherTraffic(): OtherTraffic {
    const servers = [...this.otherServers.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([key, packets]) => {
        const at = key.lastIndexOf(':')
        const ip = key.slice(0, at).replace(/^\[|\]$/g, '')
        return {ip, port: Number(key.slice(at + 1)), packets}
      })
    return {servers}
  }
}

function summarize(connections: ConnectionReport[], policy: Policy): Summary {
  const summary: Summary = {connections: connections.length, pass: 0, fail: 0, warn: 0, skip: 0, verdict: 'pass'}
  for (const conn of connections) {
    for (const check of conn.checks) summary[check.status]++
  }
  if (connections.length === 0) {
    summary.verdict = 'fail'
    const ports = policy.ports.length === 0 ? 'any port' : `port ${policy.ports.join(', ')}`
    summary.reason = `no TCP traffic to the Console (${ports}${policy.consoleIp ? ` at ${policy.consoleIp}` : ''}) in the capture`
  } else if (summary.fail > 0) {
    summary.verdict = 'fail'
    const failing = connections.filter((c) => c.verdict === 'fail').length
    summary.reason = `${failing} of ${connections.length} connection(s) failed a check`
  }
  return summary
}

/** ISO-8601 with microseconds would be nicer, but Date keeps ms; the frames carry the exact times. */
export function isoTime(epochSeconds: number): string {
  return new Date(Math.round(epochSeconds * 1000)).toISOString()
}
