/**
 * Connection tracking: groups TCP packets into connections by 4-tuple, decides who is the
 * client, records the handshake and teardown (tcp-handshake.ts, RFC 9293 §3.5, §3.6), and feeds
 * each direction's payload through a StreamReassembler to the connection's StreamHandler. Its
 * parts: the flow table (flow-table.ts), open connections (connection.ts) in a
 * least-recently-active list (recency-list.ts), and released connections' tombstones
 * (tombstone.ts).
 */
import {TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet, type TcpHeader} from '../packet/types.js'
import {Connection, noteReplyTunnels, type Flow} from './connection.js'
import {HairpinMatcher, isRedirected} from './hairpin.js'
import {addFlow, flowPorts, removeFlow, replaceFlow, type FlowTable} from './flow-table.js'
import type {StreamReassemblerOptions} from './reassembly.js'
import {RecencyList} from './recency-list.js'
import {recordControl, synContinues} from './tcp-handshake.js'
import {notePathSignals} from './path-signals.js'
import {MAX_TOMBSTONES, TOMBSTONE_SECONDS, Tombstone, type TombstoneFlow} from './tombstone.js'
import type {ConnectionTrackerOptions, TcpFacts, TrackedConnection} from './types.js'

// The defaults are named together with every other limit in src/limits.ts.
import {DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HALF_OPEN} from '../limits.js'
/** How far from the least recently active end a half-open connection is looked for to finish early. */
const HALF_OPEN_SEARCH = 64

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
  /** Open connections, least recently active first. */
  private readonly active = new RecencyList<Connection>()
  /** Released connections' tombstones still in the table for their late packets, oldest release first. */
  private readonly tombstones = new RecencyList<Tombstone>()
  private tombstoneCount = 0
  /**
   * The most connections, half-open connections and tombstones held at once so far. A sharded
   * analysis (src/shards/) adds its trackers' peaks: while the sum stays under a cap, no cap has
   * acted on the whole capture either, so every shard decided exactly what one tracker would have.
   */
  readonly peaks: TrackerPeaks = {connections: 0, halfOpen: 0, tombstones: 0}

  constructor(private readonly options: ConnectionTrackerOptions) {
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    this.maxHalfOpen = options.maxHalfOpen ?? DEFAULT_MAX_HALF_OPEN
    const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES
    this.reassembly = {c2s: {maxBufferedBytes, label: 'client→server'}, s2c: {maxBufferedBytes, label: 'server→client'}}
  }

  /**
   * Feeds one decoded packet; packets without TCP over IP are ignored.
   *
   * The packet and everything it points to (headers, payload, options, tunnels) may be reused
   * for the next frame once push() returns: the analysis hands in ONE Packet object refilled
   * per prefiltered frame (packet/prefiltered-packet.ts), over the capture reader's buffer.
   * So the tracker, and the StreamHandlers it calls during push(), read what they need during
   * the call and copy what they keep (numbers, ports, addresses, SYN options, the tunnels);
   * they never keep `packet` or a view into it.
   */
  push(packet: Packet): void {
    const tcp = packet.tcp
    const ip = packet.ip
    if (tcp === undefined || ip === undefined) return
    const ports = flowPorts(tcp.srcPort, tcp.dstPort)
    const flags = tcp.flags
    let found = this.flows.get(ports) as TableEntry | undefined
    while (found !== undefined && (found.src !== ip.src || found.dst !== ip.dst)) found = found.samePorts as TableEntry | undefined
    let flow: Flow
    if (found === undefined) {
      flow = this.open(packet, tcp)
    } else if (found.isTombstone) {
      const tombstone = found.owner
      // A late packet of a released connection (its last ACK, a retransmitted FIN) counts on
      // its tombstone; a SYN with a new ISN opens a new connection on the 4-tuple, and so does
      // any packet once the tombstone is older than TOMBSTONE_SECONDS. That age is judged here,
      // at the packet, not only when the next connection opens and sweeps old tombstones: else
      // whether this packet opens a connection would depend on other connections' packets (and
      // a shard of the capture, src/shards/, sees only its own).
      const late = (flags & (TCP_SYN | TCP_ACK)) !== TCP_SYN || synContinues(found.fromClient, tombstone.clientIsn, tombstone.synAckAck, tcp.seq)
      if (late && packet.ts - tombstone.releasedTs <= TOMBSTONE_SECONDS) {
        tombstone.latePacket(found, tcp, packet)
        return
      }
      this.removeTombstone(tombstone)
      flow = this.open(packet, tcp)
    } else if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && !synContinues(found.fromClient, found.conn.clientIsn, found.conn.synAckAck, tcp.seq)) {
      // A SYN with a new ISN: the 4-tuple was reused for a new connection.
      this.replace(found.conn, packet)
      flow = this.open(packet, tcp)
    } else {
      flow = found
    }
    const conn = flow.conn
    if (packet.tunnels !== undefined) {
      // Tunnels are off the fast path: a plain capture never gets here. The workload is told by
      // the client's (the Defender's) first redirected packet: it goes workload -> firewall
      // whether the capture shows a hairpin or one leg of the tunnel (a Console's packet first
      // seen in a tunnel may be on its way to the firewall, or back from it).
      if (conn.hairpin === undefined && flow.fromClient && isRedirected(packet.tunnels)) conn.hairpin = new HairpinMatcher(packet.tunnels.find((tunnel) => isRedirected([tunnel]))!)
      noteReplyTunnels(conn, packet.tunnels, flow.fromClient, ip.src)
    }
    if (conn.hairpin !== undefined && conn.hairpin.observe(tcp, flow.fromClient, packet.tunnels, packet.frame, packet.ts)) {
      // Another copy of a packet already counted (to the Microperimeter firewall, back, in clear).
      this.active.touch(conn)
      conn.info.tcp.lastFrame = packet.frame
      conn.info.tcp.endTs = packet.ts
      if (conn.ended && conn.hairpin.settled()) this.release(conn, packet.ts)
      return
    }
    if (conn.halfOpen && !flow.fromClient) this.answered(conn)
    this.active.touch(conn)
    const facts = conn.info.tcp
    facts.lastFrame = packet.frame
    facts.endTs = packet.ts
    const stats = flow.stats
    stats.packets++
    stats.bytes += tcp.payloadLength
    notePathSignals(conn.path, flow.fromClient, packet, tcp, ip.ttl)

    if ((flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0 || conn.awaitingAck) {
      recordControl(conn, flow.fromClient, tcp, packet)
      if ((flags & TCP_RST) !== 0 && !conn.ended) {
        // A reset ends both directions at once (RFC 9293 §3.5.2): what is buffered will never be completed.
        conn.flush()
        conn.handler?.end?.('both', {frame: packet.frame, ts: packet.ts})
      }
    }
    // After the end the reassemblers deliver nothing but still count retransmissions.
    if ((flags & TCP_ACK) !== 0) flow.peer.acknowledged(tcp.ack, packet.frame, packet.ts)
    if (tcp.payloadLength > 0 || (flags & (TCP_SYN | TCP_FIN)) !== 0) {
      flow.own.segment(tcp.seq, (flags & TCP_SYN) !== 0, (flags & TCP_FIN) !== 0, tcp.payload, tcp.payloadLength, packet.frame, packet.ts)
    }
    // A redirected connection waits for the last copies of its last packets.
    if (conn.ended && (conn.hairpin === undefined || conn.hairpin.settled())) this.release(conn, packet.ts)
  }

  /**
   * Flushes every open connection (gaps for holes) and returns all connections, by id — or, with
   * onConnectionClosed, hands the open ones to it (least recently active first) and returns [].
   */
  finish(): TrackedConnection[] {
    for (let conn = this.active.oldest; conn !== null; conn = conn.newer) {
      conn.flush()
      this.close(conn)
    }
    this.active.clear()
    this.tombstones.clear()
    this.tombstoneCount = 0
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
    this.expireTombstones(packet.ts)
    const conn = new Connection(++this.opened, packet, tcp, senderIsClient, clientBy, this.reassembly)
    if (this.options.onConnectionClosed === undefined) this.all.push(conn.info)
    addFlow(this.flows, conn.forward)
    addFlow(this.flows, conn.backward)
    if (++this.tracked > this.peaks.connections) this.peaks.connections = this.tracked
    if (this.tracked > this.maxConnections && this.active.oldest !== null) this.evict(this.active.oldest, packet)
    if (handshake === TCP_SYN) {
      conn.halfOpen = true
      if (++this.halfOpen > this.peaks.halfOpen) this.peaks.halfOpen = this.halfOpen
      if (this.halfOpen > this.maxHalfOpen) this.evictHalfOpen(packet)
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
    let conn = this.active.oldest
    for (let i = 0; conn !== null && i < HALF_OPEN_SEARCH; i++, conn = conn.newer) {
      if (!conn.halfOpen || conn === this.active.newest) continue
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

  /** Drops `conn` (an open connection) from the table and the activity list, finishing it. */
  private forget(conn: Connection): void {
    if (conn.halfOpen) this.answered(conn)
    removeFlow(this.flows, conn.forward)
    removeFlow(this.flows, conn.backward)
    this.active.remove(conn)
    this.tracked--
    conn.flush()
    this.close(conn)
  }

  /** Hands the connection over once; later packets of it (the last ACKs) only update its counters. */
  private close(conn: Connection): void {
    if (conn.closed) return
    conn.closed = true
    if (conn.hairpin !== undefined) conn.info.hairpin = conn.hairpin.finish(conn.info.tcp.endTs)
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

  /**
   * Both FINs were reached, or a RST: every byte has been delivered. The connection is handed
   * over (its readers finished, its facts final) and leaves the table; a tombstone takes its
   * place for TOMBSTONE_SECONDS so late ACKs and retransmitted FINs do not open a new connection.
   * Tombstones do not count against maxConnections.
   */
  private release(conn: Connection, ts: number): void {
    if (conn.halfOpen) this.answered(conn)
    conn.c2s.close()
    conn.s2c.close()
    this.close(conn)
    this.active.remove(conn)
    this.tracked--
    const tombstone = new Tombstone(conn, ts)
    // In the flows' places: overwriting a Map entry is cheaper than deleting and adding one.
    replaceFlow(this.flows, conn.forward, tombstone.forward)
    replaceFlow(this.flows, conn.backward, tombstone.backward)
    this.tombstones.append(tombstone)
    if (++this.tombstoneCount > this.peaks.tombstones) this.peaks.tombstones = this.tombstoneCount
  }

  /** Lets go of tombstones kept long enough, or too many of them. */
  private expireTombstones(now: number): void {
    const tombstones = this.tombstones
    for (let oldest = tombstones.oldest; oldest !== null && (this.tombstoneCount > MAX_TOMBSTONES || now - oldest.releasedTs > TOMBSTONE_SECONDS); oldest = tombstones.oldest) {
      this.removeTombstone(oldest)
    }
  }

  /** Removes a tombstone from the table and the list of tombstones. */
  private removeTombstone(tombstone: Tombstone): void {
    removeFlow(this.flows, tombstone.forward)
    removeFlow(this.flows, tombstone.backward)
    this.tombstones.remove(tombstone)
    this.tombstoneCount--
  }
}

/** ConnectionTracker.peaks: the most held at once, against maxConnections, maxHalfOpen and MAX_TOMBSTONES. */
export interface TrackerPeaks {
  connections: number
  halfOpen: number
  tombstones: number
}

/** What the flow table holds: an open connection's flow or a released one's tombstone flow. */
type TableEntry = Flow | TombstoneFlow
