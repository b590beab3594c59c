/**
 * The analysis driver: frames in, AnalysisReport out. Data flows down once:
 *   RawFrame → decodePacket → ConnectionTracker (reassembly) → TLS reader → ConnectionFacts
 *   → checks → report.
 * The same Analyzer serves a saved file, stdin and a live tcpdump: it is fed frames through a
 * CaptureSink and asked for the report when the input ends.
 */
import type {CaptureSink, CaptureSummary, RawFrame} from '../capture/types.js'
import {ServerCounter} from './server-counter.js'
import {answeredByOf} from './answered-by.js'
import {decodePacket} from '../packet/packet.js'
import {PrefilteredPacketBuilder} from '../packet/prefiltered-packet.js'
import {FRAME_DECODE, FRAME_TCP, newPrefilteredTcp, prefilterFrame} from '../packet/prefilter.js'
import {TCP_ACK, TCP_SYN, type Packet} from '../packet/types.js'
import type {Issue} from '../issues.js'
import {connectionVerdict, inconclusiveOf, runChecks} from '../checks/index.js'
import type {ConnectionFacts, SnaplenIssue} from '../model/facts.js'
import type {Policy} from '../model/policy.js'
import {ConnectionTracker} from '../stream/tracker.js'
import type {TrackedConnection} from '../stream/types.js'
import type {CaptureReport, ConnectionReport, OtherTraffic, SourceInfo} from '../model/report.js'
import {evaluateCertificates, type CertificateContext} from './certificates.js'
import {withDerivedFacts, type AssembledFacts} from './derive.js'
import {KeyStore} from '../keys/store.js'
import {ConnectionReaders} from './connection-readers.js'
import {isCaptureTimeInRange, isoTime} from '../time.js'
import {countOmitted} from '../lists.js'
import {countConnection} from './tally.js'
import {DecidedConnections} from './decided.js'
import type {Direction, FrameRef, StreamHandler} from '../stream/types.js'
import type {TrackerPeaks} from '../stream/tracker.js'

export {summarizeConnections} from './tally.js'

export interface AnalyzerOptions {
  policy: Policy
  /** Certificate policy inputs (CA bundle already loaded), see certificates.ts. */
  certificates?: CertificateContext
  /** Most connections tracked at once. */
  maxConnections?: number
  /** Connections with a client SYN and no answer tracked at once (default DEFAULT_MAX_HALF_OPEN, 10,000). */
  maxHalfOpenConnections?: number
  /**
   * Most connections listed in full in the report (default DEFAULT_MAX_REPORTED_CONNECTIONS).
   * Connections past it are still analysed and counted in the summary and verdict, and the
   * report says how many were left out — never an out-of-memory on a capture of millions.
   */
  maxReportedConnections?: number
  /**
   * Called with each connection's report as soon as it is decided (when the tracker lets the
   * connection go: FIN/RST, eviction, or the end of the input), so a caller can write or digest
   * it and let it go. Reports arrive in that order, not by id. With this set, the report's
   * `connections` keeps only maxReportedConnections of them (pass 0 to keep none) and no
   * "not listed" issue is raised: the caller has seen every one.
   */
  onConnection?(report: ConnectionReport<ConnectionFacts>): void
  /**
   * TLS secrets from --keylog / SSLKEYLOGFILE. The analyzer adds the capture's own Decryption
   * Secrets Blocks to it (or to a store of its own), so a pcapng made with
   * `editcap --inject-secrets` needs no flag.
   */
  keys?: KeyStore
  /**
   * The per-Defender view (report.defenders, analysis/defenders.ts): on by default; false leaves
   * it out (the bench measures the analysis with and without it).
   */
  perDefender?: boolean
  /** Defenders grouped in the view (Limits.maxDefenders, default DEFAULT_MAX_DEFENDERS). */
  maxDefenders?: number
  /**
   * One shard of a sharded analysis (src/shards/): only the connections whose ports hash to
   * `index` of `count` (shardOfPorts) are tracked. Every frame is still read for the capture's
   * own facts (frames, times, snaplen, capture issues, keys, other servers), so every shard
   * states those alike and as a single analyzer would.
   */
  shard?: {index: number; count: number}
  /** Called with the frame of each connection the tracker opens: a sharded analysis counts the report's ids from these. */
  onOpen?(frame: number): void
  /** Called for each decided connection with where it was decided: a sharded analysis merges the shards' by it. */
  onDecided?(decided: DecidedConnection): void
}

/** A connection as it was decided, and what the per-Defender view needs of that moment. */
export interface DecidedConnection {
  report: ConnectionReport<ConnectionFacts>
  /**
   * The frame whose packet decided it (its last FIN or RST, the SYN that reused its 4-tuple), or
   * Infinity for the connections still open when the input ended, which are decided in the
   * order they were last active (report.facts.tcp.lastFrame).
   */
  frame: number
  /** When the last payload byte (either direction) came (the per-Defender view's idle time). */
  lastDataTs: number | undefined
  /** The capture's last packet so far. */
  captureEndTs: number
}

/** Issue code of a capture time outside what ISO-8601 can say (src/time.ts). */
const TIME_OUT_OF_RANGE = 'capture.time-out-of-range'

/** How many distinct non-Console servers to remember for the "seen instead" hint. */
const OTHER_TRAFFIC_LIMIT = 10_000

/**
 * One open connection's reader state. With the per-Defender view it is also the tracker's handler
 * for the connection: it notes when payload last came (the idle time before a session's end) and
 * hands everything to the protocol readers, so the view costs no object per connection.
 */
class ConnectionState implements StreamHandler {
  /** When the last payload byte (either direction) was delivered (per-Defender view only). */
  lastDataTs: number | undefined = undefined

  constructor(
    readonly tracked: TrackedConnection,
    /** The protocol chain's readers (src/protocols/): proxy preamble, TLS, HTTP upgrade, WebSocket. */
    readonly readers: ConnectionReaders,
  ) {}

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    this.lastDataTs = ref.ts
    this.readers.stream.data(direction, bytes, ref)
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    this.lastDataTs = ref.ts
    this.readers.stream.gap?.(direction, size, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    this.readers.stream.end?.(direction, ref)
  }
}

export class Analyzer {
  readonly sink: CaptureSink
  private readonly policy: Policy
  private readonly ports: Set<number>
  /** ports as a 64 Ki-entry bitmap: a per-packet lookup without hashing. */
  private readonly consolePorts = new Uint8Array(65536)
  /** Scratch for the fixed-offset fast path, reused for every frame. */
  private readonly fast = newPrefilteredTcp()
  /** The Packet of a prefiltered Console segment: one object, refilled per frame. */
  private readonly packets = new PrefilteredPacketBuilder()
  private readonly tracker: ConnectionTracker
  private readonly keys: KeyStore
  /** Reader state of the connections still open: dropped as each one closes. */
  private readonly states = new Map<number, ConnectionState>()
  /** The decided connections: the tally, the per-Defender view, the listed ones. */
  private readonly decided: DecidedConnections
  private readonly otherServers = new ServerCounter(OTHER_TRAFFIC_LIMIT)
  private readonly captureIssues: Issue[] = []
  private readonly issueCodesSeen = new Set<string>()
  private frames = 0
  private firstTs?: number
  private lastTs?: number
  /** Captured length of the longest frame whose TCP payload was cut: the snaplen in effect. */
  private snaplen = 0
  /** The frame being analysed (Infinity once the input has ended): where a connection closed now is decided. */
  private deciding = 0
  /** The shard's index and count (options.shard), or count 0 for the whole capture. */
  private readonly shardIndex: number
  private readonly shardCount: number

  constructor(private readonly options: AnalyzerOptions) {
    this.policy = options.policy
    this.ports = new Set(options.policy.ports)
    for (const port of this.ports) this.consolePorts[port] = 1
    this.keys = options.keys ?? new KeyStore()
    const anyPort = this.ports.size === 0
    this.shardIndex = options.shard?.index ?? 0
    this.shardCount = options.shard?.count ?? 0
    this.decided = new DecidedConnections(options)
    this.tracker = new ConnectionTracker({
      isServerPort: anyPort ? () => false : (port) => this.ports.has(port),
      maxConnections: options.maxConnections,
      maxHalfOpen: options.maxHalfOpenConnections,
      onConnectionClosed: (tracked) => this.close(tracked),
      onConnection: (tracked) => {
        // A preamble is only recognised from the connection's first bytes, which a capture that
        // started mid-connection does not have.
        const readers = new ConnectionReaders({keys: this.keys, fromOpening: () => tracked.tcp.syn !== undefined || tracked.tcp.synAck !== undefined})
        const state = new ConnectionState(tracked, readers)
        this.states.set(tracked.id, state)
        this.options.onOpen?.(tracked.tcp.firstFrame)
        // The idle time before a session ended is wanted by the view, here or in a sharded merge.
        return this.decided.defenders === undefined && options.onDecided === undefined ? readers.stream : state
      },
    })
    // Every producer asks skipFrame first and delivers to frame() only what it declined
    // (CaptureSink's contract, kept by the readers and by capture/sink.ts for wrappers and
    // replays), so frame() decodes in full without asking again.
    this.sink = {
      frame: (frame) => this.onFrame(frame),
      secrets: (block) => this.keys.addDecryptionSecrets(block),
      // A classic pcap brings no keys of its own: what --keylog gave is all there will be.
      format: (format) => {
        if (format === 'pcap') this.keys.seal()
      },
      skipFrame: (data, start, end, linkType, tsSec, tsNsec) => {
        const kind = this.passOver(data, start, end, linkType, tsSec, tsNsec)
        if (kind === PASSED_OVER) {
          this.frames++
          return true
        }
        if (kind === CONSOLE_TCP && ((this.shardCount !== 0 && this.otherShardSegment(start, end, tsSec, tsNsec)) || this.consoleSegment(data, start, end, linkType, tsSec, tsNsec, this.frames + 1))) {
          this.frames++
          return true
        }
        return false
      },
    }
  }

  private onFrame(frame: RawFrame): void {
    this.frames++
    const packet = decodePacket(frame)
    if (packet.issues) for (const issue of packet.issues) this.noteCaptureIssue(issue)
    this.onPacket(packet, frame.data.length)
  }

  /** A decoded packet: the times, the snaplen, and the Console's packets to the tracker. */
  private onPacket(packet: Packet, capturedLength: number): void {
    if (this.firstTs === undefined) this.firstTs = packet.ts
    this.lastTs = packet.ts
    if (!isCaptureTimeInRange(packet.ts)) this.noteTimeOutOfRange(packet.ts, packet.frame)
    const tcp = packet.tcp
    if (!tcp || !packet.ip) return
    if (tcp.payload.length < tcp.payloadLength && capturedLength > this.snaplen) this.snaplen = capturedLength
    if (this.isConsoleTraffic(packet)) {
      if (this.shardCount !== 0 && shardOfPorts(tcp.srcPort, tcp.dstPort, this.shardCount) !== this.shardIndex) return
      this.deciding = packet.frame
      this.tracker.push(packet)
    } else if (this.decided.tally.connections === 0) this.noteOtherServer(packet)
  }

  /**
   * A plain TCP segment on a Console port, its headers already read by the prefilter: its Packet
   * is built from those offsets (packet/prefiltered-packet.ts) instead of decoded layer by
   * layer. False when it must be decoded in full after all (VLAN tags).
   */
  private consoleSegment(data: Uint8Array, start: number, end: number, linkType: number, tsSec: number, tsNsec: number, frame: number): boolean {
    const packet = this.packets.build(data, start, end, linkType, frame, tsSec + tsNsec / 1e9, this.fast)
    if (packet === undefined) return false
    this.onPacket(packet, end - start)
    return true
  }

  /**
   * A shard of a sharded analysis (only then asked): a Console segment of another shard's connection adds to the
   * capture's facts only (its time, the snaplen when its payload was cut, as onPacket() has them)
   * and is not made a Packet at all. False when it is this shard's, or not plainly so (VLAN tags,
   * --console IP, which may make it another server's traffic).
   */
  private otherShardSegment(start: number, end: number, tsSec: number, tsNsec: number): boolean {
    const fast = this.fast
    if (fast.tagged || this.policy.consoleIp !== undefined || shardOfPorts(fast.srcPort, fast.dstPort, this.shardCount) === this.shardIndex) return false
    const ts = tsSec + tsNsec / 1e9
    if (this.firstTs === undefined) this.firstTs = ts
    this.lastTs = ts
    if (!isCaptureTimeInRange(ts)) this.noteTimeOutOfRange(ts, this.frames + 1)
    // As PrefilteredPacketBuilder reads the payload: up to the IP length or the capture's cut.
    const payloadStart = fast.tcpAt + fast.tcpHeaderLength
    const captured = Math.max(0, Math.min(fast.tcpAt + fast.tcpWireLength, end) - payloadStart)
    if (captured < fast.tcpWireLength - fast.tcpHeaderLength && end - start > this.snaplen) this.snaplen = end - start
    return true
  }

  /**
   * Most of a busy capture is not Console traffic: its headers are read at fixed offsets and it
   * is counted, not decoded in full (PASSED_OVER). A plain TCP segment on a Console port is
   * CONSOLE_TCP (this.fast holds what was read); tunnels, fragments and anything odd are
   * left to decodePacket() (DECODE).
   */
  private passOver(data: Uint8Array, start: number, end: number, linkType: number, tsSec: number, tsNsec: number): FrameHandling {
    if (this.ports.size === 0) return DECODE
    const fast = this.fast
    const kind = prefilterFrame(linkType, data, start, end, fast)
    if (kind === FRAME_DECODE) return DECODE
    if (kind === FRAME_TCP && (this.consolePorts[fast.srcPort] === 1 || this.consolePorts[fast.dstPort] === 1)) return CONSOLE_TCP
    const ts = tsSec + tsNsec / 1e9
    if (this.firstTs === undefined) this.firstTs = ts
    this.lastTs = ts
    if (!isCaptureTimeInRange(ts)) this.noteTimeOutOfRange(ts, this.frames + 1)
    // The "seen instead" servers matter only when no Console connection turns up at all.
    if (kind === FRAME_TCP && this.decided.tally.connections === 0) {
      const clientSends = sentByClient(fast.flags, fast.srcPort, fast.dstPort)
      this.otherServers.countBytes(data, clientSends ? fast.dstAddr : fast.srcAddr, fast.v6, clientSends ? fast.dstPort : fast.srcPort)
    }
    return PASSED_OVER
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
    const clientSends = sentByClient(tcp.flags, tcp.srcPort, tcp.dstPort)
    this.otherServers.countText(clientSends ? ip.dst : ip.src, ip.version === 6, clientSends ? tcp.dstPort : tcp.srcPort)
  }

  /**
   * A timestamp ISO-8601 cannot state (a corrupt pcapng if_tsoffset or 64-bit count): printed
   * clamped by isoTime(), and said once on the capture; certificates are then not judged by it.
   */
  private noteTimeOutOfRange(ts: number, frame: number): void {
    this.noteCaptureIssue({code: TIME_OUT_OF_RANGE, severity: 'warn', frame, message: `frame ${frame} has the timestamp ${ts} s, outside years 0000-9999: times are shown clamped and certificate validity is not judged by them`})
  }

  /** Capture-level issues (e.g. unsupported link type) are kept once per code. */
  private noteCaptureIssue(issue: Issue): void {
    if (this.issueCodesSeen.has(issue.code)) return
    this.issueCodesSeen.add(issue.code)
    this.captureIssues.push(issue)
  }

  /** Ends the analysis: flushes the streams, assembles facts, runs the checks. */
  finish(source: CaptureSourceInput): CaptureReport {
    this.endInput()
    return this.decided.report(this.sourceInfo(source), () => this.otherTraffic(), this.lastTs)
  }

  /** The input has ended: the connections still open are decided, least recently active first. */
  endInput(): void {
    this.deciding = Infinity
    this.tracker.finish()
  }

  /** The report's `source`: the capture's own facts, its issues (without the connection-limit one, which is the report's). */
  sourceInfo(source: CaptureSourceInput): SourceInfo {
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
    return {
      ...source,
      ...(keys && {keys}),
      frames: this.frames,
      firstTs: this.firstTs === undefined ? undefined : isoTime(this.firstTs),
      lastTs: this.lastTs === undefined ? undefined : isoTime(this.lastTs),
      issues,
    }
  }

  /** The servers talked to instead (for a capture without Console traffic) and the last packet's time: what a shard tells of the capture's end. */
  captureEnd(): {otherTraffic: OtherTraffic; lastTs: number | undefined} {
    return {otherTraffic: this.otherTraffic(), lastTs: this.lastTs}
  }

  /** The tracker's peaks so far (ConnectionTracker.peaks). */
  get peaks(): TrackerPeaks {
    return this.tracker.peaks
  }

  /** Frames read so far. */
  get framesRead(): number {
    return this.frames
  }

  /** A connection the tracker is done with: its facts, its checks, and its readers let go. */
  private close(conn: TrackedConnection): void {
    const state = this.states.get(conn.id)
    this.states.delete(conn.id)
    const facts = this.assembleFacts(conn, state)
    if (!this.selectedByConsoleName(facts)) return
    const checks = runChecks(facts, this.policy)
    const inconclusive = inconclusiveOf(facts, checks)
    const verdict = connectionVerdict(checks, this.policy, inconclusive)
    const report: ConnectionReport<ConnectionFacts> = {id: facts.id, client: facts.client, server: facts.server, startedAt: facts.startedAt, endedAt: facts.endedAt, facts, checks, verdict}
    if (verdict === 'inconclusive') report.inconclusive = inconclusive
    const decided = this.decided
    countConnection(decided.tally, report)
    const captureEndTs = this.lastTs ?? facts.tcp.endTs
    decided.defenders?.add(facts, checks, verdict, state?.lastDataTs, captureEndTs)
    this.options.onDecided?.({report, frame: this.deciding, lastDataTs: state?.lastDataTs, captureEndTs})
    decided.list(report)
  }

  private assembleFacts(conn: TrackedConnection, state: ConnectionState | undefined): ConnectionFacts {
    const protocols = state?.readers.facts()
    const tls = protocols?.tls
    const hasTls = tls !== undefined && (tls.clientHellos.length > 0 || tls.serverHello !== undefined || tls.records.length > 0 || tls.notTls !== undefined)
    const facts: AssembledFacts = {
      id: conn.id,
      client: conn.client,
      server: conn.server,
      startedAt: isoTime(conn.tcp.startTs),
      endedAt: isoTime(conn.tcp.endTs),
      captureEndTs: this.lastTs,
      tcp: conn.tcp,
      issues: [...conn.issues.map((issue) => this.withSnaplen(issue)), ...(protocols?.issues ?? [])],
    }
    countOmitted(facts, 'issues', (conn.truncated?.issues ?? 0) + (protocols?.issuesOmitted ?? 0))
    if (!isCaptureTimeInRange(conn.tcp.startTs) || !isCaptureTimeInRange(conn.tcp.endTs)) {
      const ts = isCaptureTimeInRange(conn.tcp.startTs) ? conn.tcp.endTs : conn.tcp.startTs
      facts.issues.push({code: TIME_OUT_OF_RANGE, severity: 'warn', frame: conn.tcp.firstFrame, message: `a packet of this connection has the timestamp ${ts} s, outside years 0000-9999: its times are shown clamped`})
    }
    const proxy = protocols?.proxy
    if (proxy) facts.proxy = proxy
    if (conn.tunnels) facts.tunnels = conn.tunnels
    if (conn.replyTunnels) facts.replyTunnels = conn.replyTunnels
    if (conn.hairpin) facts.hairpin = conn.hairpin
    const answeredBy = answeredByOf(conn)
    if (answeredBy) facts.answeredBy = answeredBy
    if (protocols?.http) facts.http = protocols.http
    if (protocols?.ws) facts.ws = protocols.ws
    if (hasTls) {
      facts.tls = tls
      const certificates = evaluateCertificates(tls, this.policy, this.options.certificates)
      if (certificates) facts.certificates = certificates
    }
    // Derived once, here, from the complete facts: checks and the ladder only read them.
    return withDerivedFacts(facts)
  }

  /** The checks name the snaplen when payload was cut (derive.ts snaplenCut, tls-common.ts snaplenReason). */
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
    return {servers: this.otherServers.top(10)}
  }
}

/** What finish() and sourceInfo() are told of the input: kind, name, and what the reader saw. */
export type CaptureSourceInput = Omit<SourceInfo, 'frames' | 'firstTs' | 'lastTs' | 'issues'> & {capture?: CaptureSummary}

/**
 * The shard of a connection in a sharded analysis: a hash of its two ports, the same for both
 * directions, for every copy of a packet (a tunnel's inner ports) and for a reused 4-tuple.
 * Hashing the ports alone keeps it the same whether a frame took the fast path or was decoded.
 */
export function shardOfPorts(a: number, b: number, count: number): number {
  const key = a < b ? (a << 16) | b : (b << 16) | a
  return (Math.imul(key, 0x9e3779b1) >>> 16) % count
}

/** What passOver() made of a frame. */
type FrameHandling = typeof PASSED_OVER | typeof CONSOLE_TCP | typeof DECODE
const PASSED_OVER = 0
const CONSOLE_TCP = 1
const DECODE = 2

/** Whether a segment goes client → server: a SYN does, a SYN-ACK does not, else it goes to the lower port. */
function sentByClient(flags: number, srcPort: number, dstPort: number): boolean {
  const handshake = flags & (TCP_SYN | TCP_ACK)
  return handshake === TCP_SYN || (handshake !== (TCP_SYN | TCP_ACK) && dstPort < srcPort)
}
