/**
 * The few per-packet numbers `path.answered-by` reasons on (analysis/answered-by.ts): each
 * side's IP TTL / IPv6 hop limit range, the SYN-ACK's TTL, each RST's TTL, whether the server's
 * later packets carry the timestamps option its SYN-ACK did or did not, and the shortest
 * request → response turn. A packet costs a few comparisons; nothing here is serialized (the
 * analysis turns them into facts.answeredBy only when they show something).
 */
import {LIST_CAPS, pushCapped, type HoldsCappedLists} from '../lists.js'
import {TCP_ACK, TCP_RST, TCP_SYN, type Packet, type TcpHeader} from '../packet/types.js'

/** A RST and the TTL (hop limit) it arrived with. */
export interface RstTtl {
  frame: number
  ts: number
  /** The side the RST came from (types.ts Side; written out here so types.ts, which holds PathSignals, is not imported back). */
  from: 'client' | 'server'
  ttl: number
}

/** `truncated.rsts` counts the RSTs past LIST_CAPS.flagEvents. */
export interface PathSignals extends HoldsCappedLists {
  /** TTL range of each side's packets other than SYNs, SYN-ACKs and RSTs; min > max when none. */
  clientTtlMin: number
  clientTtlMax: number
  clientTtlPackets: number
  serverTtlMin: number
  serverTtlMax: number
  serverTtlPackets: number
  /** TTL range of the server's packets carrying payload: the session's endpoint's own (a SYN proxy's window update carries none). */
  serverDataTtlMin: number
  serverDataTtlMax: number
  serverDataPackets: number
  /** The first SYN-ACK's TTL, -1 when none was seen. */
  synAckTtl: number
  /** Server packets after its SYN-ACK (RSTs aside) with and without the TCP timestamps option (RFC 7323 §3.2: all or none). */
  serverLaterWithTimestamps: number
  serverLaterWithoutTimestamps: number
  rsts: RstTtl[]
  /**
   * Request → response turns: server payload right after client payload, timed from the client's
   * last segment (so a response's own processing and upload time count, a slow upload does not).
   */
  turns: number
  /** The shortest turn (ms) and its client and server frames. */
  turnMinMs: number
  turnMinFrames: [number, number]
  /** The second shortest: a response that crossed a request (both sides closing at once) is set aside with it. */
  turnSecondMs: number
  turnSecondFrames: [number, number]
  /** Working state: the last payload segment was the client's, at this frame and time. */
  lastDataFromClient: boolean
  lastClientDataFrame: number
  lastClientDataTs: number
}

export function newPathSignals(): PathSignals {
  return {
    clientTtlMin: 256,
    clientTtlMax: -1,
    clientTtlPackets: 0,
    serverTtlMin: 256,
    serverTtlMax: -1,
    serverTtlPackets: 0,
    serverDataTtlMin: 256,
    serverDataTtlMax: -1,
    serverDataPackets: 0,
    synAckTtl: -1,
    serverLaterWithTimestamps: 0,
    serverLaterWithoutTimestamps: 0,
    rsts: [],
    turns: 0,
    turnMinMs: Infinity,
    turnMinFrames: [0, 0],
    turnSecondMs: Infinity,
    turnSecondFrames: [0, 0],
    lastDataFromClient: false,
    lastClientDataFrame: 0,
    lastClientDataTs: 0,
  }
}

/** Notes one packet of the connection (called by the tracker for every packet of an open connection). */
export function notePathSignals(signals: PathSignals, fromClient: boolean, packet: Packet, tcp: TcpHeader, ttl: number): void {
  const flags = tcp.flags
  if ((flags & (TCP_SYN | TCP_RST)) === 0) {
    if (fromClient) {
      if (ttl < signals.clientTtlMin) signals.clientTtlMin = ttl
      if (ttl > signals.clientTtlMax) signals.clientTtlMax = ttl
      signals.clientTtlPackets++
    } else {
      if (ttl < signals.serverTtlMin) signals.serverTtlMin = ttl
      if (ttl > signals.serverTtlMax) signals.serverTtlMax = ttl
      signals.serverTtlPackets++
      if (signals.synAckTtl >= 0) {
        if (tcp.options.tsVal !== undefined) signals.serverLaterWithTimestamps++
        else signals.serverLaterWithoutTimestamps++
      }
    }
    if (tcp.payloadLength > 0) {
      if (fromClient) {
        signals.lastDataFromClient = true
        signals.lastClientDataFrame = packet.frame
        signals.lastClientDataTs = packet.ts
      } else {
        if (ttl < signals.serverDataTtlMin) signals.serverDataTtlMin = ttl
        if (ttl > signals.serverDataTtlMax) signals.serverDataTtlMax = ttl
        signals.serverDataPackets++
      }
      if (!fromClient && signals.lastDataFromClient) {
        signals.lastDataFromClient = false
        const ms = (packet.ts - signals.lastClientDataTs) * 1000
        if (ms >= 0) {
          signals.turns++
          if (ms < signals.turnMinMs) {
            signals.turnSecondMs = signals.turnMinMs
            signals.turnSecondFrames = signals.turnMinFrames
            signals.turnMinMs = ms
            signals.turnMinFrames = [signals.lastClientDataFrame, packet.frame]
          } else if (ms < signals.turnSecondMs) {
            signals.turnSecondMs = ms
            signals.turnSecondFrames = [signals.lastClientDataFrame, packet.frame]
          }
        }
      }
    }
  } else if ((flags & TCP_RST) !== 0) {
    pushCapped(signals, 'rsts', signals.rsts, LIST_CAPS.flagEvents, {frame: packet.frame, ts: packet.ts, from: fromClient ? 'client' : 'server', ttl})
  } else if ((flags & TCP_ACK) !== 0 && !fromClient && signals.synAckTtl < 0) {
    signals.synAckTtl = ttl
  }
}
