/**
 * An open connection's working state in the tracker: its two reassemblers, its two flows (one
 * per orientation, in the flow table), its handshake numbers and its facts (`info`, what callers
 * see).
 */
import {LIST_CAPS, pushCapped} from '../lists.js'
import type {Packet, TcpHeader, TunnelInfo} from '../packet/types.js'
import type {Issue} from '../issues.js'
import {flowPorts, type ChainedFlow} from './flow-table.js'
import {StreamReassembler, type ReassemblySink, type StreamReassemblerOptions} from './reassembly.js'
import type {HairpinMatcher} from './hairpin.js'
import type {HandshakeState} from './tcp-handshake.js'
import {newPathSignals, type PathSignals} from './path-signals.js'
import type {Direction, StreamHandler, TcpDirectionStats, TcpFacts, TrackedConnection} from './types.js'

/** Per connection, so a capture cut by snaplen at every packet keeps bounded facts. */
const MAX_RECORDED_GAPS = LIST_CAPS.gaps

/** One orientation of a connection: what a packet from `src` to `dst` belongs to. */
export class Flow implements ChainedFlow {
  readonly isTombstone = false
  constructor(
    readonly conn: Connection,
    readonly direction: Direction,
    readonly fromClient: boolean,
    /** Reassembles what this flow's packets carry. */
    readonly own: StreamReassembler,
    /** Reassembles the other direction, which this flow's ACKs acknowledge. */
    readonly peer: StreamReassembler,
    readonly stats: TcpDirectionStats,
    readonly src: string,
    readonly dst: string,
    readonly ports: number,
  ) {}

  /** The next flow in the table with the same ports. */
  samePorts: ChainedFlow | undefined = undefined
}

/** Forwards one direction's reassembled bytes to the connection's handler and facts. */
class DirectionSink implements ReassemblySink {
  constructor(
    private readonly conn: Connection,
    private readonly direction: Direction,
  ) {}

  data(bytes: Uint8Array, frame: number, ts: number): void {
    const handler = this.conn.handler
    if (handler !== undefined) handler.data(this.direction, bytes, {frame, ts})
  }

  gap(size: number, frame: number, ts: number): void {
    const conn = this.conn
    const gaps = conn.info.tcp.gaps
    if (!pushCapped(conn.info.tcp, 'gaps', gaps, MAX_RECORDED_GAPS, {direction: this.direction, size, frame, ts})) conn.omittedGaps++
    conn.handler?.gap?.(this.direction, size, {frame, ts})
  }

  fin(frame: number, ts: number): void {
    this.conn.handler?.end?.(this.direction, {frame, ts})
    this.conn.finReached()
  }

  issue(issue: Issue): void {
    pushCapped(this.conn.info, 'issues', this.conn.info.issues, LIST_CAPS.issuesPerSource, issue)
  }
}

/** A tracked connection's working state; `info` is what callers see. */
export class Connection implements HandshakeState {
  readonly info: TrackedConnection
  /** info.tcp */
  readonly tcp: TcpFacts
  handler: StreamHandler | undefined = undefined
  /** info.path */
  readonly path: PathSignals = newPathSignals()
  readonly c2s: StreamReassembler
  readonly s2c: StreamReassembler
  readonly forward: Flow
  readonly backward: Flow
  clientIsn = -1
  serverIsn = -1
  synAckAck = -1
  awaitingAck = false
  lastSynTs = 0
  /** RST, both FINs delivered, eviction or end of input: reassembly is over. */
  ended = false
  /** onConnectionClosed was called: it is, at the latest, once the connection is released. */
  closed = false
  omittedGaps = 0
  /** Whether the first packet came from the client (the other side's tunnels are the reply leg). */
  firstFromClient = true
  /** Set at the first packet redirected through a Microperimeter firewall: matches the copies of each packet. */
  hairpin: HairpinMatcher | undefined = undefined
  /** Opened by a client SYN, and nothing came from the server yet (counted in halfOpen). */
  halfOpen = false
  /** Least-recently-active list links. */
  older: Connection | null = null
  newer: Connection | null = null

  constructor(
    id: number,
    packet: Packet,
    tcp: TcpHeader,
    senderIsClient: boolean,
    clientBy: TcpFacts['clientBy'],
    reassembly: {c2s: StreamReassemblerOptions; s2c: StreamReassemblerOptions},
  ) {
    const ip = packet.ip!
    const sender = {ip: ip.src, port: tcp.srcPort}
    const receiver = {ip: ip.dst, port: tcp.dstPort}
    const c2sStats = newDirectionStats()
    const s2cStats = newDirectionStats()
    this.info = {
      id,
      client: senderIsClient ? sender : receiver,
      server: senderIsClient ? receiver : sender,
      tcp: {
        synRetransmissions: [],
        synAckRetransmissions: [],
        rst: [],
        fin: [],
        c2s: c2sStats,
        s2c: s2cStats,
        gaps: [],
        sawOpening: false,
        clientBy,
        firstFrame: packet.frame,
        lastFrame: packet.frame,
        startTs: packet.ts,
        endTs: packet.ts,
      },
      path: this.path,
      issues: [],
    }
    this.tcp = this.info.tcp
    if (packet.tunnels !== undefined && packet.tunnels.length > 0) this.info.tunnels = copyTunnels(packet.tunnels, senderIsClient, ip.src)
    this.firstFromClient = senderIsClient
    this.c2s = new StreamReassembler(new DirectionSink(this, 'c2s'), c2sStats, reassembly.c2s)
    this.s2c = new StreamReassembler(new DirectionSink(this, 's2c'), s2cStats, reassembly.s2c)
    const forwardPorts = flowPorts(tcp.srcPort, tcp.dstPort)
    const backwardPorts = flowPorts(tcp.dstPort, tcp.srcPort)
    const [fwdDir, bwdDir]: [Direction, Direction] = senderIsClient ? ['c2s', 's2c'] : ['s2c', 'c2s']
    const fwdOwn = senderIsClient ? this.c2s : this.s2c
    const bwdOwn = senderIsClient ? this.s2c : this.c2s
    const fwdStats = senderIsClient ? c2sStats : s2cStats
    const bwdStats = senderIsClient ? s2cStats : c2sStats
    this.forward = new Flow(this, fwdDir, senderIsClient, fwdOwn, bwdOwn, fwdStats, ip.src, ip.dst, forwardPorts)
    this.backward = new Flow(this, bwdDir, !senderIsClient, bwdOwn, fwdOwn, bwdStats, ip.dst, ip.src, backwardPorts)
  }

  /** The SYN-ACK acknowledges the client's ISN+1 even when its SYN was not captured. */
  expectFromClient(seq: number): void {
    this.c2s.expect(seq)
  }

  /** A FIN was reached in sequence; with both, the connection is over and its buffers go. */
  finReached(): void {
    if (this.c2s.ended && this.s2c.ended) this.ended = true
  }

  /** Ends reassembly: holes become gaps, buffered bytes are delivered, buffers are released. */
  flush(): void {
    this.ended = true
    const facts = this.info.tcp
    this.c2s.flush(facts.lastFrame, facts.endTs)
    this.s2c.flush(facts.lastFrame, facts.endTs)
    if (this.omittedGaps > 0) {
      this.info.issues.push({
        code: 'tcp.gap-limit',
        severity: 'warn',
        message: `${this.omittedGaps} more gaps than the ${MAX_RECORDED_GAPS} listed were found in this connection`,
      })
      this.omittedGaps = 0
    }
  }
}

function newDirectionStats(): TcpDirectionStats {
  return {packets: 0, bytes: 0, deliveredBytes: 0, retransmissions: 0, overlaps: 0, outOfOrder: 0}
}

/**
 * The first packet from the other side that arrives in tunnels carrying GENEVE options gives
 * the connection's replyTunnels (looked for only on tunneled packets, which are off the fast path).
 */
export function noteReplyTunnels(conn: Connection, tunnels: TunnelInfo[], fromClient: boolean, innerSrc: string): void {
  if (fromClient === conn.firstFromClient || conn.info.replyTunnels !== undefined) return
  if (!tunnels.some((tunnel) => tunnel.options.length > 0)) return
  conn.info.replyTunnels = copyTunnels(tunnels, fromClient, innerSrc, conn.hairpin?.facts.workload)
}

/**
 * A packet's tunnels, kept as the connection's facts (their options are already copied
 * out of the frame). A tunnel carrying the Microperimeter option is given its direction: the
 * workload is the outer source of packets whose inner source is the client (the Defender), so a
 * client-sent packet travelled workload-to-firewall and a server-sent one firewall-to-workload.
 */
function copyTunnels(tunnels: TunnelInfo[], senderIsClient: boolean, innerSrc: string, hairpinWorkload?: string): TunnelInfo[] {
  return tunnels.map((tunnel) => {
    const kept: TunnelInfo = {...tunnel, options: tunnel.options.map((option) => ({...option}))}
    if (hairpinWorkload !== undefined && tunnel.options.some((option) => option.name === 'microperimeter')) {
      // A hairpin sends the Console's packets to the firewall too (stream/hairpin.ts): the workload
      // is the outer source of the connection's first redirected copy, whoever sent the inner packet.
      const toFirewall = tunnel.outerSrc === hairpinWorkload
      kept.direction = toFirewall ? 'workload-to-firewall' : 'firewall-to-workload'
      kept.directionDerivedFrom =
        `outer addresses: a hairpin sends every packet to the firewall first, so the workload is ${hairpinWorkload} ` +
        `(the outer source of this connection's first redirected copy) and this copy, from ${tunnel.outerSrc}, goes ${toFirewall ? 'to' : 'back from'} the firewall`
    } else if (tunnel.options.some((option) => option.name === 'microperimeter')) {
      const [workload, firewall] = senderIsClient ? [tunnel.outerSrc, tunnel.outerDst] : [tunnel.outerDst, tunnel.outerSrc]
      kept.direction = senderIsClient ? 'workload-to-firewall' : 'firewall-to-workload'
      kept.directionDerivedFrom =
        `outer addresses: the packet's inner source ${innerSrc} is the ${senderIsClient ? 'client' : 'server'}, ` +
        `so the workload is ${workload} (the outer ${senderIsClient ? 'source' : 'destination'}) and the firewall ${firewall}`
    }
    return kept
  })
}
