/**
 * The TCP handshake, teardown and reset bookkeeping (RFC 9293 §3.5, §3.6, §3.10.7) of one
 * connection, open (connection.ts) or released (tombstone.ts): both keep the same few numbers.
 */
import {LIST_CAPS, pushCapped} from '../lists.js'
import {TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet, type TcpHeader, type TcpOptions} from '../packet/types.js'
import type {TcpFacts} from './types.js'

/** FIN and RST packets listed per connection (retransmitted FINs included, as tcp.flags.fin lists them). */
const MAX_RECORDED_FLAG_EVENTS = LIST_CAPS.flagEvents

type SynFacts = NonNullable<TcpFacts['syn']>

/** The handshake numbers a connection keeps, open or as a tombstone. */
export interface HandshakeState {
  readonly tcp: TcpFacts
  /** Client ISN from its SYN, -1 when no SYN was seen. */
  clientIsn: number
  /** Server ISN from its SYN-ACK and that SYN-ACK's acknowledgment number, -1 when unseen. */
  serverIsn: number
  synAckAck: number
  /** SYN-ACK seen, handshake ACK not yet. */
  awaitingAck: boolean
  /** Time of the most recent client SYN: the one the SYN-ACK answered. */
  lastSynTs: number
  /** The SYN-ACK acknowledges the client's ISN+1 even when its SYN was not captured. */
  expectFromClient(seq: number): void
}

/**
 * Records a SYN, SYN-ACK, handshake ACK, FIN or RST on the connection's facts. A RST's effect on
 * reassembly (the end of both directions) is the tracker's to apply.
 */
export function recordControl(conn: HandshakeState, fromClient: boolean, tcp: TcpHeader, packet: Packet): void {
  const facts = conn.tcp
  const flags = tcp.flags
  if ((flags & TCP_SYN) !== 0) {
    if ((flags & TCP_ACK) === 0) {
      // synContinues() let only the client's own SYN (first or same ISN) get here.
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
  }
}

/**
 * Does this SYN (no ACK) belong to the flow's connection rather than open a new one? Only the
 * client's own SYN does: its first (the same ISN) or, when only the SYN-ACK was seen so far, the
 * late SYN that SYN-ACK acknowledges.
 */
export function synContinues(fromClient: boolean, clientIsn: number, synAckAck: number, seq: number): boolean {
  if (!fromClient) return false
  if (clientIsn >= 0) return seq === clientIsn
  return synAckAck >= 0 && ((seq + 1) >>> 0) === synAckAck
}

function synFacts(packet: Packet, options: TcpOptions): SynFacts {
  const facts: SynFacts = {frame: packet.frame, ts: packet.ts}
  if (options.mss !== undefined) facts.mss = options.mss
  if (options.windowScale !== undefined) facts.windowScale = options.windowScale
  if (options.sackPermitted !== undefined) facts.sackPermitted = options.sackPermitted
  if (options.tsVal !== undefined) facts.timestamps = true
  return facts
}
