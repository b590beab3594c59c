/**
 * Connection tracking and TCP reassembly contract. The tracker sees decoded packets, decides
 * who is the client, reassembles each direction into in-order bytes, and hands those bytes to
 * a StreamHandler that never sees packets.
 */
import type {HoldsCappedLists} from '../lists.js'
import type {Issue} from '../issues.js'
import type {TunnelInfo} from '../packet/types.js'
import type {PathSignals} from './path-signals.js'

export interface Endpoint {
  ip: string
  port: number
}

/** c2s: client → server; s2c: server → client. */
export type Direction = 'c2s' | 's2c'

/** A frame reference with its time, the unit of evidence. */
export interface FrameRef {
  frame: number
  /** Seconds since the epoch. */
  ts: number
}

/** Who did something on a connection. */
export type Side = 'client' | 'server'

/** The side that sent a direction's bytes: messages a user reads say client/server, never c2s/s2c. */
export function senderOf(direction: Direction): Side {
  return direction === 'c2s' ? 'client' : 'server'
}

export interface TcpFlagEvent extends FrameRef {
  from: Side
}

export interface TcpDirectionStats {
  packets: number
  /** Payload bytes on the wire (including retransmissions). */
  bytes: number
  /** Payload bytes delivered in order to the stream handler. */
  deliveredBytes: number
  /** Segments whose payload was entirely already received. */
  retransmissions: number
  /** Segments that overlapped received data partly. */
  overlaps: number
  /** Segments that arrived ahead of the next expected byte. */
  outOfOrder: number
}

export interface TcpGap extends FrameRef {
  direction: Direction
  /** Bytes missing (never captured). */
  size: number
}

/** `truncated` counts what LIST_CAPS left out of synRetransmissions, synAckRetransmissions, fin, rst and gaps. */
export interface TcpFacts extends HoldsCappedLists {
  /** First client SYN. */
  syn?: FrameRef & {mss?: number; windowScale?: number; sackPermitted?: boolean; timestamps?: boolean}
  /** Further SYNs with the same ISN (the client retrying). */
  synRetransmissions: FrameRef[]
  /** Server SYN-ACK answering the SYN. */
  synAck?: FrameRef & {mss?: number; windowScale?: number; sackPermitted?: boolean; timestamps?: boolean}
  synAckRetransmissions: FrameRef[]
  /** Client ACK completing the three-way handshake. */
  ack?: FrameRef
  /** SYN → handshake ACK in ms, as Wireshark's tcp.analysis.initial_rtt (at the capture point). */
  handshakeRttMs?: number
  /** RST sent in answer to the SYN (refused). */
  rstToSyn?: FrameRef
  rst: TcpFlagEvent[]
  fin: TcpFlagEvent[]
  c2s: TcpDirectionStats
  s2c: TcpDirectionStats
  gaps: TcpGap[]
  /** The capture holds the connection's opening SYN. */
  sawOpening: boolean
  /** How the client was decided. */
  clientBy: 'syn' | 'syn-ack' | 'port'
  firstFrame: number
  lastFrame: number
  startTs: number
  endTs: number
}

/** Receives one connection's reassembled bytes. Never sees packets. */
export interface StreamHandler {
  /**
   * In-order payload for one direction; `ref` is the segment that carried these bytes.
   * `bytes` is valid only during the call: copy what must be kept.
   */
  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void
  /** `size` bytes will never arrive in this direction; delivery resumes after them. */
  gap?(direction: Direction, size: number, ref: FrameRef): void
  /** A FIN or RST ended this direction (FIN) or the whole connection (RST). */
  end?(direction: Direction | 'both', ref: FrameRef): void
}

/** One tracked TCP connection; `truncated.issues` counts issues past LIST_CAPS.issuesPerSource. */
export interface TrackedConnection extends HoldsCappedLists {
  /** 1-based, in order of first packet. */
  id: number
  client: Endpoint
  server: Endpoint
  tunnels?: TunnelInfo[]
  /**
   * The return leg: the tunnels of the first packet from the side that did not send the first
   * packet, kept only when they carry GENEVE options (so captures whose tunnels have none report
   * as before). In tcpdump-geneve.pcap the client's packets come in VNI 11 without options and
   * the server's in VNI 10 with one: `tunnels` is VNI 11, `replyTunnels` VNI 10.
   */
  replyTunnels?: TunnelInfo[]
  /** Only when the connection's packets were redirected through a Microperimeter firewall (GENEVE option 0x20): stream/hairpin.ts. */
  hairpin?: HairpinFacts
  tcp: TcpFacts
  /** TTLs, the SYN-ACK's options and the shortest request → response turn, for path.answered-by (path-signals.ts); set on every tracked connection, never serialized. */
  path?: PathSignals
  issues: Issue[]
}

/** One inner packet of a hairpin, as the verdicts cite it. */
export interface HairpinPacketRef {
  /** The frame of its first copy. */
  frame: number
  direction: Direction
  /** TCP flags in tshark's order of letters, e.g. "SA" for a SYN-ACK, "A" for an ACK, "PA". */
  flags: string
  payloadLength: number
  /** Its capture time (seconds since the epoch). */
  ts: number
  /** The frame that sent it to the firewall (again, for a doubled one), and when. */
  toFirewallFrame?: number
  toFirewallTs?: number
}

/**
 * What a capture on a Microperimeter-redirected workload shows of one connection (PAN Traffic
 * Redirector hairpins each packet in GENEVE, RFC 8926, to a firewall and back): the copies of one
 * inner packet (to the firewall, back from it, in clear) are counted here once, and only its
 * first copy reaches the TCP facts. `truncated` counts what the capped lists left out.
 */
export interface HairpinFacts extends HoldsCappedLists {
  /** Outer address of the workload: the outer source of the Defender's first redirected packet (it goes to the firewall). */
  workload: string
  firewall: string
  /** How workload and firewall were told apart, in words. */
  derivedFrom: string
  /** Distinct inner packets seen on the connection after its first redirected one. */
  packets: number
  /** Of those, sent to the firewall and back (hairpinned). */
  hairpinned: number
  /** Of those, seen only in clear (not redirected). */
  notRedirected: number
  /** Frames recognised as copies of a packet already counted (not retransmissions). */
  copies: number
  /** Time from a copy's sending to the firewall to its return, per hairpin (ms). */
  latencyMs?: {median: number; max: number; count: number}
  /** Sent to the firewall and never back (while later packets of the connection were captured). */
  lost: HairpinPacketRef[]
  /** Sent to the firewall when the capture ended, too recent to tell. */
  inFlightAtEnd: number
  /** Redirection stopped: from this packet on, every packet of the connection travelled only in clear. */
  stopped?: {frame: number; ts: number; lastRedirectedFrame: number; packetsAfter: number}
  /** Encapsulated twice (nested GENEVE, or sent to the firewall again after it came back). */
  doubled: HairpinPacketRef[]
  /** Packets settled early because more than LIST_CAPS.hairpinPending were awaiting copies. */
  unsettled: number
}

export interface ConnectionTrackerOptions {
  /** Ports that identify the server when no SYN decides it. */
  isServerPort(port: number): boolean
  /** Called once per new connection; the handler gets its bytes. */
  onConnection?(conn: TrackedConnection): StreamHandler | undefined
  /**
   * Called once per connection when no more bytes can come: at its release (both FINs reached,
   * or a RST; later ACKs and retransmitted FINs still update its TcpFacts counters), or when it
   * is pushed out by maxConnections, its 4-tuple reused, or the input ended. With it the tracker keeps no
   * finished connection itself, so memory follows the open connections, not the file; finish()
   * then returns an empty list.
   */
  onConnectionClosed?(conn: TrackedConnection): void
  /** Most connections tracked at once before the oldest idle are finished. Default 100_000. */
  maxConnections?: number
  /** Most half-open connections (a client SYN, no answer yet) tracked at once. Default 10,000. */
  maxHalfOpen?: number
  /** Most out-of-order bytes buffered per direction before a gap is declared. Default 4 MiB. */
  maxBufferedBytes?: number
}
