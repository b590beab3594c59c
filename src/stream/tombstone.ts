/**
 * A released connection's tombstone. A connection over (both FINs or a RST) is handed over, and
 * its tombstone stays in the flow table a while so that its late packets (its last ACKs,
 * retransmitted FINs) are counted on it instead of opening a phantom connection: for
 * TOMBSTONE_SECONDS of capture time (Linux keeps TIME_WAIT for 60 s; late packets come within a
 * few RTTs), and at most MAX_TOMBSTONES of them, the oldest let go first. The tombstone keeps the
 * TCP facts and the few numbers a late packet needs, nothing else: the connection's reassemblers,
 * flows and readers die young, where keeping them 30 s of capture time made every one of them
 * survive into the old generation (on a Console-side capture of 100,000 connections the garbage
 * collector copying them was ~40% of the tracker's time).
 */
import {TCP_FIN, TCP_RST, TCP_SYN, type Packet, type TcpHeader} from '../packet/types.js'
import type {ChainedFlow} from './flow-table.js'
import {recordControl, type HandshakeState} from './tcp-handshake.js'
import type {TcpFacts} from './types.js'

export const TOMBSTONE_SECONDS = 30
export const MAX_TOMBSTONES = 10_000

/** What a tombstone is made from: a released connection (connection.ts) with its two flows. */
export interface ReleasedConnection extends HandshakeState {
  readonly c2s: {readonly nextSequence: number | undefined}
  readonly s2c: {readonly nextSequence: number | undefined}
  readonly forward: ChainedFlow & {readonly fromClient: boolean}
  readonly backward: ChainedFlow & {readonly fromClient: boolean}
}

/**
 * What stays of a released connection: its TCP facts (which late packets still update, as
 * tshark counts them on the stream) and the handshake numbers recordControl() reads.
 */
export class Tombstone implements HandshakeState {
  /** The tracker's list of tombstones, oldest release first. */
  older: Tombstone | null = null
  newer: Tombstone | null = null
  readonly tcp: TcpFacts
  readonly forward: TombstoneFlow
  readonly backward: TombstoneFlow
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
    conn: ReleasedConnection,
    /** Capture time of the release. */
    readonly releasedTs: number,
  ) {
    this.tcp = conn.tcp
    this.clientIsn = conn.clientIsn
    this.serverIsn = conn.serverIsn
    this.synAckAck = conn.synAckAck
    this.awaitingAck = conn.awaitingAck
    this.lastSynTs = conn.lastSynTs
    this.c2sNextSeq = conn.c2s.nextSequence ?? -1
    this.s2cNextSeq = conn.s2c.nextSequence ?? -1
    this.forward = new TombstoneFlow(this, conn.forward)
    this.backward = new TombstoneFlow(this, conn.backward)
  }

  /** A late SYN-ACK starts the client's sequence space, as StreamReassembler.expect() would. */
  expectFromClient(seq: number): void {
    if (this.c2sNextSeq < 0) this.c2sNextSeq = seq >>> 0
  }

  /**
   * A late packet of the released connection: counted on its facts as if it were still open,
   * where the reassemblers, closed, would only have counted a retransmission.
   */
  latePacket(flow: TombstoneFlow, tcp: TcpHeader, packet: Packet): void {
    const facts = this.tcp
    facts.lastFrame = packet.frame
    facts.endTs = packet.ts
    const stats = flow.fromClient ? facts.c2s : facts.s2c
    stats.packets++
    stats.bytes += tcp.payloadLength
    const flags = tcp.flags
    if ((flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0 || this.awaitingAck) recordControl(this, flow.fromClient, tcp, packet)
    const next = flow.fromClient ? this.c2sNextSeq : this.s2cNextSeq
    if (tcp.payloadLength > 0 && next >= 0) {
      const dataSeq = (flags & TCP_SYN) !== 0 ? (tcp.seq + 1) >>> 0 : tcp.seq
      if (((dataSeq - next) | 0) + tcp.payloadLength <= 0) stats.retransmissions++
    }
  }
}

/** A released connection's orientation in the flow table, in its Flow's place. */
export class TombstoneFlow implements ChainedFlow {
  readonly isTombstone = true
  readonly fromClient: boolean
  readonly src: string
  readonly dst: string
  readonly ports: number
  samePorts: ChainedFlow | undefined = undefined

  constructor(
    readonly owner: Tombstone,
    flow: ChainedFlow & {readonly fromClient: boolean},
  ) {
    this.fromClient = flow.fromClient
    this.src = flow.src
    this.dst = flow.dst
    this.ports = flow.ports
  }
}
