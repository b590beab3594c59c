/**
 * Connection tracking: groups TCP packets into connections by 4-tuple, decides
 * who is the client, records the handshake and teardown (RFC 9293 §3.5, §3.6), and feeds each
 * direction's payload through a StreamReassembler to the connection's StreamHandler.
 */
import {LIST_CAPS, pushCapped} from '../lists.js'
import {TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet, type TcpHeader, type TcpOptions, type TunnelInfo} from '../dissect/types.js'
import type {Issue} from '../issues.js'
import {StreamReassembler, type ReassemblySink, type StreamReassemblerOptions} from './reassembly.js'
import type {
  ConnectionTrackerOptions,
  Direction,
  StreamHandler,
  TcpDirectionStats,
  TcpFacts,
  TrackedConnection,
} from './types.js'

export const DEFAULT_MAX_CONNECTIONS = 100_000
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/**
 * Connections whose client sent a SYN and heard nothing back, held at once. They are the
 * cheapest to forge (a SYN flood: one 60-byte packet each) and each costs the ~3 KB of an open
 * connection, so they get a cap of their own below maxConnections: 1M unanswered SYNs from
 * distinct clients otherwise held 100,000 of them (~800 MiB peak RSS).
 */
export const DEFAULT_MAX_HALF_OPEN = 10_000
/** How far from the least recently active end a half-open connection is looked for to finish early. */
const HALF_OPEN_SEARCH = 64
/** Per connection, so a capture cut by snaplen at every packet keeps bounded facts. */
const MAX_RECORDED_GAPS = LIST_CAPS.gaps
/**
 * A connection over (both FINs or a RST) is handed over, and a tombstone of it (Lingering) stays
 * in the table a while so that its last ACKs and retransmitted FINs are counted on it instead of
 * opening a phantom connection: for this many seconds of capture time (Linux keeps TIME_WAIT for
 * 60 s; stragglers come within a few RTTs), and at most MAX_LINGERING of them, the oldest let go
 * first. The tombstone keeps the TCP facts and the few numbers a straggler needs, nothing else: the
 * connection's reassemblers, flows and readers die young, where keeping them 30 s of capture time
 * made every one of them survive into the old generation (on a Console-side capture of 100,000
 * connections the garbage collector copying them was ~40% of the tracker's time).
 */
const LINGER_SECONDS = 30
const MAX_LINGERING = 10_000
/** FIN and RST packets listed per connection (retransmitted FINs included, as tcp.flags.fin lists them). */
const MAX_RECORDED_FLAG_EVENTS = LIST_CAPS.flagEvents

type SynFacts = NonNullable<TcpFacts['syn']>

/**
 * (srcPort << 16 | dstPort), a small integer (no boxed number per lookup) → the flows with those
 * ports, chained by `samePorts` (different
 * addresses, rarely more than one): one hash lookup per packet and no key string built, where
 * nested maps by address cost three lookups and their cache misses (~0.5 µs a packet on a
 * capture of 100,000 connections). Open connections have Flows in it, released ones LingeringFlows.
 */
type FlowTable = Map<number, Flow | LingeringFlow>

/** One orientation of a connection: what a packet from `src` to `dst` belongs to. */
class Flow {
  readonly lingering = false
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
  samePorts: Flow | LingeringFlow | undefined = undefined
}

/**
 * What stays of a released connection while it lingers: its TCP facts (which stragglers still
 * update, as tshark counts them on the stream) and the handshake numbers control() reads.
 */
class Lingering {
  /** The lingering list, oldest release first. */
  older: Lingering | null = null
  newer: Lingering | null = null
  readonly tcp: TcpFacts
  readonly forward: LingeringFlow
  readonly backward: LingeringFlow
  clientIsn: number
  serverIsn: number
  synAckAck: number
  awaitingAck: boolean
  lastSynTs: number
  /**
   * Each direction's next expected sequence number when its reassembler was closed, -1 when it
   * never started: a later segment wholly before it counts as a retransmission, as a closed
   * reassembler counts it.
   */
  c2sNextSeq: number
  readonly s2cNextSeq: number

  constructor(
    conn: Connection,
    /** Capture time of the release. */
    readonly releasedTs: number,
  ) {
    this.tcp = conn.info.tcp
    this.clientIsn = conn.clientIsn
    this.serverIsn = conn.serverIsn
    this.synAckAck = conn.synAckAck
    this.awaitingAck = conn.awaitingAck
    this.lastSynTs = conn.lastSynTs
    this.c2sNextSeq = conn.c2s.nextSequence ?? -1
    this.s2cNextSeq = conn.s2c.nextSequence ?? -1
    this.forward = new LingeringFlow(this, conn.forward)
    this.backward = new LingeringFlow(this, conn.backward)
  }

  /** A late SYN-ACK starts the client's sequence space, as StreamReassembler.expect() would. */
  expectFromClient(seq: number): void {
    if (this.c2sNextSeq < 0) this.c2sNextSeq = seq >>> 0
  }
}

/** A released connection's orientation in the flow table. */
class LingeringFlow {
  readonly lingering = true
  readonly fromClient: boolean
  readonly src: string
  readonly dst: string
  readonly ports: number
  samePorts: Flow | LingeringFlow | undefined = undefined

  constructor(
    readonly owner: Lingering,
    flow: Flow,
  ) {
    this.fromClient = flow.fromClient
    this.src = flow.src
    this.dst = flow.dst
    this.ports = flow.ports
  }
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
class Connection {
  readonly info: TrackedConnection
  /** info.tcp */
  readonly tcp: TcpFacts
  handler: StreamHandler | undefined = undefined
  readonly c2s: StreamReassembler
  readonly s2c: StreamReassembler
  readonly forward: Flow
  readonly backward: Flow
  /** Client ISN from its SYN, -1 when no SYN was seen. */
  clientIsn = -1
  /** Server ISN from its SYN-ACK and that SYN-ACK's acknowledgment number, -1 when unseen. */
  serverIsn = -1
  synAckAck = -1
  /** SYN-ACK seen, handshake ACK not yet. */
  awaitingAck = false
  /** Time of the most recent client SYN: the one the SYN-ACK answered. */
  lastSynTs = 0
  /** RST, both FINs delivered, eviction or end of input: reassembly is over. */
  ended = false
  /** onConnectionClosed was called: it is, at the latest, once the connection is released. */
  closed = false
  omittedGaps = 0
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
      issues: [],
    }
    this.tcp = this.info.tcp
    if (packet.tunnels !== undefined && packet.tunnels.length > 0) this.info.tunnels = copyTunnels(packet.tunnels)
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
}

export class ConnectionTracker {
  /**
   * One table for plain and tunnelled traffic alike: GENEVE deployments often use a different VNI
   * per direction (tcpdump-geneve.pcap: 0x0b one way, 0x0a back), so keying by VNI would split a
   * connection in two. The first packet's tunnels are kept as the connection's facts.
   */
  private readonly flows: FlowTable = new Map()
  private readonly all: TrackedConnection[] = []
  private readonly maxConnections: number
  /** Each direction's reassembler options, shared by every connection. */
  private readonly reassembly: {c2s: StreamReassemblerOptions; s2c: StreamReassemblerOptions}
  /** Connections in the activity list (not yet released): maxConnections bounds it. */
  private tracked = 0
  /** Connections opened so far: the next id. */
  private opened = 0
  private readonly maxHalfOpen: number
  /** Tracked connections with Connection.halfOpen set. */
  private halfOpen = 0
  /** Least recently active first. */
  private oldest: Connection | null = null
  private newest: Connection | null = null
  /** Released connections still in the table for their stragglers, oldest release first. */
  private lingerOldest: Lingering | null = null
  private lingerNewest: Lingering | null = null
  private lingering = 0

  constructor(private readonly options: ConnectionTrackerOptions) {
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    this.maxHalfOpen = options.maxHalfOpen ?? DEFAULT_MAX_HALF_OPEN
    const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES
    this.reassembly = {c2s: {maxBufferedBytes, label: 'client→server'}, s2c: {maxBufferedBytes, label: 'server→client'}}
  }

  /** Feeds one decoded packet; packets without TCP over IP are ignored. */
  push(packet: Packet): void {
    const tcp = packet.tcp
    const ip = packet.ip
    if (tcp === undefined || ip === undefined) return
    const ports = flowPorts(tcp.srcPort, tcp.dstPort)
    const flags = tcp.flags
    let found = this.flows.get(ports)
    while (found !== undefined && (found.src !== ip.src || found.dst !== ip.dst)) found = found.samePorts
    let flow: Flow
    if (found === undefined) {
      flow = this.open(packet, tcp)
    } else if (found.lingering) {
      const owner = found.owner
      // A straggler of a released connection (its last ACK, a retransmitted FIN) counts on it; a
      // SYN with a new ISN opens a new connection on the 4-tuple.
      if ((flags & (TCP_SYN | TCP_ACK)) !== TCP_SYN || synContinues(found.fromClient, owner.clientIsn, owner.synAckAck, tcp.seq)) {
        this.straggler(found, tcp, packet)
        return
      }
      this.bury(owner)
      flow = this.open(packet, tcp)
    } else if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && !synContinues(found.fromClient, found.conn.clientIsn, found.conn.synAckAck, tcp.seq)) {
      // A SYN with a new ISN: the 4-tuple was reused for a new connection.
      this.replace(found.conn, packet)
      flow = this.open(packet, tcp)
    } else {
      flow = found
    }
    const conn = flow.conn
    if (conn.halfOpen && !flow.fromClient) this.answered(conn)
    this.touch(conn)
    const facts = conn.info.tcp
    facts.lastFrame = packet.frame
    facts.endTs = packet.ts
    const stats = flow.stats
    stats.packets++
    stats.bytes += tcp.payloadLength

    if ((flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0 || conn.awaitingAck) this.control(conn, flow.fromClient, tcp, packet)
    // After the end the reassemblers deliver nothing but still count retransmissions.
    if ((flags & TCP_ACK) !== 0) flow.peer.acknowledged(tcp.ack, packet.frame, packet.ts)
    if (tcp.payloadLength > 0 || (flags & (TCP_SYN | TCP_FIN)) !== 0) {
      flow.own.segment(tcp.seq, (flags & TCP_SYN) !== 0, (flags & TCP_FIN) !== 0, tcp.payload, tcp.payloadLength, packet.frame, packet.ts)
    }
    if (conn.ended) this.release(conn, packet.ts)
  }

  /**
   * Flushes every open connection (gaps for holes) and returns all connections, by id — or, with
   * onConnectionClosed, hands the open ones to it (least recently active first) and returns [].
   */
  finish(): TrackedConnection[] {
    for (let conn = this.oldest; conn !== null; conn = conn.newer) {
      this.flush(conn)
      this.close(conn)
    }
    this.oldest = this.newest = null
    this.lingerOldest = this.lingerNewest = null
    this.lingering = 0
    this.flows.clear()
    this.tracked = 0
    this.halfOpen = 0
    return this.all
  }

  /** A new connection from its first packet, deciding who is the client. */
  private open(packet: Packet, tcp: TcpHeader): Flow {
    const handshake = tcp.flags & (TCP_SYN | TCP_ACK)
    let senderIsClient: boolean
    let clientBy: TcpFacts['clientBy']
    if (handshake === TCP_SYN) {
      senderIsClient = true
      clientBy = 'syn'
    } else if (handshake === (TCP_SYN | TCP_ACK)) {
      senderIsClient = false
      clientBy = 'syn-ack'
    } else {
      clientBy = 'port'
      const srcIsServer = this.options.isServerPort(tcp.srcPort)
      const dstIsServer = this.options.isServerPort(tcp.dstPort)
      // Only one side on a server port decides; otherwise ephemeral ports are the higher ones.
      senderIsClient = srcIsServer !== dstIsServer ? dstIsServer : tcp.srcPort >= tcp.dstPort
    }
    this.expireLingering(packet.ts)
    const conn = new Connection(++this.opened, packet, tcp, senderIsClient, clientBy, this.reassembly)
    if (this.options.onConnectionClosed === undefined) this.all.push(conn.info)
    addFlow(this.flows, conn.forward)
    addFlow(this.flows, conn.backward)
    this.tracked++
    if (this.tracked > this.maxConnections && this.oldest !== null) this.evict(this.oldest, packet)
    if (handshake === TCP_SYN) {
      conn.halfOpen = true
      if (++this.halfOpen > this.maxHalfOpen) this.evictHalfOpen(packet)
    }
    conn.handler = this.options.onConnection?.(conn.info)
    return conn.forward
  }

  /** The server sent something: the connection is no longer half-open. */
  private answered(conn: Connection): void {
    conn.halfOpen = false
    this.halfOpen--
  }

  /**
   * Too many half-open connections: the least recently active one among the HALF_OPEN_SEARCH
   * least recently active connections is finished now (in a SYN flood, the oldest). Past them
   * the cap is not enforced this time: memory stays bounded by maxConnections.
   */
  private evictHalfOpen(packet: Packet): void {
    let conn = this.oldest
    for (let i = 0; conn !== null && i < HALF_OPEN_SEARCH; i++, conn = conn.newer) {
      if (!conn.halfOpen || conn === this.newest) continue
      conn.info.issues.push({
        code: 'stream.half-open-limit',
        severity: 'warn',
        message:
          `more than ${this.maxHalfOpen} connections without any answer from the server at frame ${packet.frame}: this one, ` +
          `idle since frame ${conn.info.tcp.lastFrame}, was finished early; a later answer to it starts a new connection`,
        frame: packet.frame,
      })
      this.forget(conn)
      return
    }
  }

  /**
   * A packet of a released connection: counted on its facts as if it were still open, where the
   * reassemblers, closed, would only have counted a retransmission.
   */
  private straggler(flow: LingeringFlow, tcp: TcpHeader, packet: Packet): void {
    const tomb = flow.owner
    const facts = tomb.tcp
    facts.lastFrame = packet.frame
    facts.endTs = packet.ts
    const stats = flow.fromClient ? facts.c2s : facts.s2c
    stats.packets++
    stats.bytes += tcp.payloadLength
    const flags = tcp.flags
    if ((flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0 || tomb.awaitingAck) this.control(tomb, flow.fromClient, tcp, packet)
    const next = flow.fromClient ? tomb.c2sNextSeq : tomb.s2cNextSeq
    if (tcp.payloadLength > 0 && next >= 0) {
      const dataSeq = (flags & TCP_SYN) !== 0 ? (tcp.seq + 1) >>> 0 : tcp.seq
      if (((dataSeq - next) | 0) + tcp.payloadLength <= 0) stats.retransmissions++
    }
  }

  /** Handshake, teardown and reset bookkeeping (RFC 9293 §3.5, §3.6, §3.10.7), open or lingering. */
  private control(conn: Connection | Lingering, fromClient: boolean, tcp: TcpHeader, packet: Packet): void {
    const facts = conn.tcp
    const flags = tcp.flags
    if ((flags & TCP_SYN) !== 0) {
      if ((flags & TCP_ACK) === 0) {
        // continuesWithSyn() let only the client's own SYN (first or same ISN) get here.
        if (facts.syn === undefined) {
          facts.syn = synFacts(packet, tcp.options)
          facts.sawOpening = true
          conn.clientIsn = tcp.seq
        } else {
          pushCapped(facts, 'synRetransmissions', facts.synRetransmissions, LIST_CAPS.synRetransmissions, {frame: packet.frame, ts: packet.ts})
        }
        conn.lastSynTs = packet.ts
      } else if (!fromClient) {
        if (facts.synAck === undefined) {
          facts.synAck = synFacts(packet, tcp.options)
          conn.serverIsn = tcp.seq
          conn.synAckAck = tcp.ack
          conn.awaitingAck = true
          conn.expectFromClient(tcp.ack)
        } else if (tcp.seq === conn.serverIsn) {
          pushCapped(facts, 'synAckRetransmissions', facts.synAckRetransmissions, LIST_CAPS.synAckRetransmissions, {frame: packet.frame, ts: packet.ts})
        }
      }
    } else if (conn.awaitingAck && fromClient && (flags & (TCP_ACK | TCP_RST)) === TCP_ACK && ((tcp.ack - conn.serverIsn) | 0) > 0) {
      // The client acknowledges the server's SYN (RFC 9293 §3.5); usually ack = ISN+1, more when
      // the server sent data before the client's ACK was captured.
      conn.awaitingAck = false
      facts.ack = {frame: packet.frame, ts: packet.ts}
      // As Wireshark's tcp.analysis.initial_rtt, from the most recent SYN (the one answered).
      // Timestamps that run backwards (merged captures, a clock step) give no RTT rather than a negative one.
      if (facts.syn !== undefined && packet.ts >= conn.lastSynTs) facts.handshakeRttMs = (packet.ts - conn.lastSynTs) * 1000
    }
    if ((flags & TCP_FIN) !== 0) pushCapped(facts, 'fin', facts.fin, MAX_RECORDED_FLAG_EVENTS, {frame: packet.frame, ts: packet.ts, from: fromClient ? 'client' : 'server'})
    if ((flags & TCP_RST) !== 0) {
      pushCapped(facts, 'rst', facts.rst, MAX_RECORDED_FLAG_EVENTS, {frame: packet.frame, ts: packet.ts, from: fromClient ? 'client' : 'server'})
      // RFC 9293 §3.10.7.1: a closed port answers a SYN with <SEQ=0><ACK=ISN+1><CTL=RST,ACK>.
      if (
        !fromClient &&
        facts.rstToSyn === undefined &&
        facts.syn !== undefined &&
        facts.synAck === undefined &&
        (flags & TCP_ACK) !== 0 &&
        tcp.ack === (conn.clientIsn + 1) >>> 0
      ) {
        facts.rstToSyn = {frame: packet.frame, ts: packet.ts}
      }
      if (conn instanceof Connection && !conn.ended) {
        // A reset ends both directions at once (RFC 9293 §3.5.2): what is buffered will never be completed.
        this.flush(conn)
        conn.handler?.end?.('both', {frame: packet.frame, ts: packet.ts})
      }
    }
  }

  /** Marks `conn` most recently active. */
  private touch(conn: Connection): void {
    if (conn === this.newest) return
    if (conn.older !== null || conn.newer !== null || conn === this.oldest) this.unlink(conn)
    conn.older = this.newest
    conn.newer = null
    if (this.newest !== null) this.newest.newer = conn
    else this.oldest = conn
    this.newest = conn
  }

  private unlink(conn: Connection): void {
    if (conn.older !== null) conn.older.newer = conn.newer
    else this.oldest = conn.newer
    if (conn.newer !== null) conn.newer.older = conn.older
    else this.newest = conn.older
    conn.older = conn.newer = null
  }

  /** Drops `conn` (an open connection) from the table and the activity list, finishing it. */
  private forget(conn: Connection): void {
    if (conn.halfOpen) this.answered(conn)
    removeFlow(this.flows, conn.forward)
    removeFlow(this.flows, conn.backward)
    this.unlink(conn)
    this.tracked--
    this.flush(conn)
    this.close(conn)
  }

  /** Hands the connection over once; later packets of it (the last ACKs) only update its counters. */
  private close(conn: Connection): void {
    if (conn.closed) return
    conn.closed = true
    // The handler (the protocol readers and all they hold) is done.
    conn.handler = undefined
    this.options.onConnectionClosed?.(conn.info)
  }

  /** Too many connections: the least recently active one is finished now. */
  private evict(conn: Connection, packet: Packet): void {
    if (!conn.ended) {
      conn.info.issues.push({
        code: 'stream.connection-limit',
        severity: 'warn',
        message:
          `more than ${this.maxConnections} connections tracked at frame ${packet.frame}: this connection, idle since ` +
          `frame ${conn.info.tcp.lastFrame}, was finished early; later packets of it start a new connection`,
        frame: packet.frame,
      })
    }
    this.forget(conn)
  }

  /** The 4-tuple was reused by a new SYN. */
  private replace(conn: Connection, packet: Packet): void {
    if (!conn.ended) {
      conn.info.issues.push({
        code: 'stream.port-reuse',
        severity: 'info',
        message: `frame ${packet.frame} opens a new connection on this 4-tuple before this one was closed`,
        frame: packet.frame,
      })
    }
    this.forget(conn)
  }

  /** Ends reassembly: holes become gaps, buffered bytes are delivered, buffers are released. */
  private flush(conn: Connection): void {
    conn.ended = true
    const facts = conn.info.tcp
    conn.c2s.flush(facts.lastFrame, facts.endTs)
    conn.s2c.flush(facts.lastFrame, facts.endTs)
    if (conn.omittedGaps > 0) {
      conn.info.issues.push({
        code: 'tcp.gap-limit',
        severity: 'warn',
        message: `${conn.omittedGaps} more gaps than the ${MAX_RECORDED_GAPS} listed were found in this connection`,
      })
      conn.omittedGaps = 0
    }
  }

  /**
   * Both FINs were reached, or a RST: every byte has been delivered. The connection is handed
   * over (its readers finished, its facts final) and leaves the table; a tombstone takes its
   * place for LINGER_SECONDS so late ACKs and retransmitted FINs do not open a new connection.
   * Tombstones do not count against maxConnections.
   */
  private release(conn: Connection, ts: number): void {
    if (conn.halfOpen) this.answered(conn)
    conn.c2s.close()
    conn.s2c.close()
    this.close(conn)
    this.unlink(conn)
    this.tracked--
    const tomb = new Lingering(conn, ts)
    // In the flows' places: overwriting a Map entry is cheaper than deleting and adding one.
    replaceFlow(this.flows, conn.forward, tomb.forward)
    replaceFlow(this.flows, conn.backward, tomb.backward)
    tomb.older = this.lingerNewest
    if (this.lingerNewest !== null) this.lingerNewest.newer = tomb
    else this.lingerOldest = tomb
    this.lingerNewest = tomb
    this.lingering++
  }

  /** Lets go of tombstones that have lingered long enough, or too many of them. */
  private expireLingering(now: number): void {
    for (let tomb = this.lingerOldest; tomb !== null && (this.lingering > MAX_LINGERING || now - tomb.releasedTs > LINGER_SECONDS); tomb = this.lingerOldest) {
      this.bury(tomb)
    }
  }

  /** Removes a tombstone from the table and the lingering list. */
  private bury(tomb: Lingering): void {
    removeFlow(this.flows, tomb.forward)
    removeFlow(this.flows, tomb.backward)
    if (tomb.older !== null) tomb.older.newer = tomb.newer
    else this.lingerOldest = tomb.newer
    if (tomb.newer !== null) tomb.newer.older = tomb.older
    else this.lingerNewest = tomb.older
    tomb.older = tomb.newer = null
    this.lingering--
  }
}

/**
 * Does this SYN (no ACK) belong to the flow's connection rather than open a new one? Only the
 * client's own SYN does: its first (the same ISN) or, when only the SYN-ACK was seen so far, the
 * late SYN that SYN-ACK acknowledges.
 */
function synContinues(fromClient: boolean, clientIsn: number, synAckAck: number, seq: number): boolean {
  if (!fromClient) return false
  if (clientIsn >= 0) return seq === clientIsn
  return synAckAck >= 0 && ((seq + 1) >>> 0) === synAckAck
}

/** The flow table's key: both ports in one 32-bit integer (an int32, so V8 keeps it unboxed). */
function flowPorts(srcPort: number, dstPort: number): number {
  return (srcPort << 16) | dstPort
}

function addFlow(table: FlowTable, flow: Flow | LingeringFlow): void {
  flow.samePorts = table.get(flow.ports)
  table.set(flow.ports, flow)
}

/** Puts `replacement` (same ports and addresses) where `flow` is in its chain. */
function replaceFlow(table: FlowTable, flow: Flow, replacement: LingeringFlow): void {
  replacement.samePorts = flow.samePorts
  relinkFlow(table, flow, replacement)
}

function removeFlow(table: FlowTable, flow: Flow | LingeringFlow): void {
  relinkFlow(table, flow, flow.samePorts)
}

/** Takes `flow` out of its chain of flows with the same ports, `next` in its place. */
function relinkFlow(table: FlowTable, flow: Flow | LingeringFlow, next: Flow | LingeringFlow | undefined): void {
  let at = table.get(flow.ports)
  if (at === flow) {
    if (next === undefined) table.delete(flow.ports)
    else table.set(flow.ports, next)
  } else {
    while (at !== undefined && at.samePorts !== flow) at = at.samePorts
    if (at !== undefined) at.samePorts = next
  }
  flow.samePorts = undefined
}

function newDirectionStats(): TcpDirectionStats {
  return {packets: 0, bytes: 0, deliveredBytes: 0, retransmissions: 0, overlaps: 0, outOfOrder: 0}
}

function synFacts(packet: Packet, options: TcpOptions): SynFacts {
  const facts: SynFacts = {frame: packet.frame, ts: packet.ts}
  if (options.mss !== undefined) facts.mss = options.mss
  if (options.windowScale !== undefined) facts.windowScale = options.windowScale
  if (options.sackPermitted !== undefined) facts.sackPermitted = options.sackPermitted
  if (options.tsVal !== undefined) facts.timestamps = true
  return facts
}

/** Tunnel options are views into the frame: copy them so the connection can keep them. */
function copyTunnels(tunnels: TunnelInfo[]): TunnelInfo[] {
  return tunnels.map((tunnel) => ({
    ...tunnel,
    options: tunnel.options.map((option) => ({...option, data: option.data.slice()})),
  }))
}
