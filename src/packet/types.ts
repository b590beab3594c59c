/**
 * What the packet decoders produce. Each layer decodes its own header and hands over its
 * payload; `decodePacket` is the one driver that picks the next decoder. A header cut short
 * sets `truncated` and stops decoding; it never throws.
 */
import type {Issue} from '../issues.js'

export const TCP_FIN = 0x01
export const TCP_SYN = 0x02
export const TCP_RST = 0x04
export const TCP_PSH = 0x08
export const TCP_ACK = 0x10
export const TCP_URG = 0x20
export const TCP_ECE = 0x40
export const TCP_CWR = 0x80

export interface IpHeader {
  version: 4 | 6
  /** Dotted quad for IPv4; RFC 5952 text for IPv6. */
  src: string
  dst: string
  /** IPv4 protocol / IPv6 final next header (after extension headers). */
  protocol: number
  ttl: number
  /** IPv4 fragment (MF set or offset > 0): flagged, never reassembled. */
  fragment?: {id: number; offset: number; moreFragments: boolean}
}

export interface TcpOptions {
  mss?: number
  windowScale?: number
  sackPermitted?: boolean
  sack?: Array<[number, number]>
  tsVal?: number
  tsEcr?: number
}

export interface TcpHeader {
  srcPort: number
  dstPort: number
  /** Unsigned 32-bit sequence number. */
  seq: number
  ack: number
  /** Flag bits, see TCP_* constants. */
  flags: number
  window: number
  options: TcpOptions
  /** Segment payload (a view). Shorter than the wire payload when snaplen cut it. */
  payload: Uint8Array
  /** Payload length on the wire (from IP lengths); >= payload.length. */
  payloadLength: number
}

export interface UdpHeader {
  srcPort: number
  dstPort: number
  length: number
  payload: Uint8Array
}

/** One GENEVE option as read from the wire (RFC 8926 §3.5); `data` is a view into the frame. */
export interface GeneveOption {
  /** Option Class (16 bits): the namespace of `type` (IANA registry, RFC 8926 §7). */
  optionClass: number
  /** Type (8 bits), critical bit included, as on the wire. */
  type: number
  data: Uint8Array
}

/**
 * The Microperimeter option's type (PAN Traffic Redirector encapsulates a workload's traffic to
 * a Prisma AIRS firewall with it). Its class is shown as seen and its data as it is: the meaning
 * of its bits is not documented publicly, so nothing is read into them.
 */
export const MICROPERIMETER_OPTION_TYPE = 0x20

/** A GENEVE option kept in the tunnel facts (RFC 8926 §3.5). */
export interface TunnelOption {
  /** Option Class (16 bits). */
  optionClass: number
  /** Type (8 bits) as on the wire, critical bit included. */
  type: number
  /** The type's high bit (§3.5): a tunnel endpoint that does not know the option must drop the packet. */
  critical: boolean
  /** The option's whole length in bytes, its 4-byte header included (4 + 4 x the 5-bit Length field; tshark's geneve.option.length). */
  length: number
  /** The option's data, lowercase hex, as it is. */
  data: string
  /** Set when the option is known: 'microperimeter' for type 0x20 (MICROPERIMETER_OPTION_TYPE). */
  name?: 'microperimeter'
}

/** Which way a Microperimeter-redirected packet travelled, and how that was derived. */
export type RedirectDirection = 'workload-to-firewall' | 'firewall-to-workload'

/** An encapsulation the packet arrived in (outermost first in Packet.tunnels). */
export interface TunnelInfo {
  type: 'geneve' | 'vxlan' | 'gre' | 'erspan'
  /** GENEVE/VXLAN VNI, GRE key, ERSPAN session id; 0 when the header has none. */
  vni: number
  outerSrc: string
  outerDst: string
  /** GENEVE options in wire order (at most MAX_GENEVE_OPTIONS, implied by the 252-byte options area); [] for other tunnels. */
  options: TunnelOption[]
  /**
   * Only on a connection's tunnel carrying the Microperimeter option: the workload is the outer
   * endpoint that carries the client's (the Defender's) traffic, i.e. the outer source of packets
   * whose inner source is the client. So the tunnel of a client-sent packet runs
   * workload-to-firewall, that of a server-sent packet firewall-to-workload. Derived from the
   * outer and inner addresses, not from the option's bits (undocumented).
   */
  direction?: RedirectDirection
  /** How `direction` was derived, in words (with the addresses). */
  directionDerivedFrom?: string
}

export interface Packet {
  /** Frame number (RawFrame.index). */
  frame: number
  /** Seconds since the epoch, fractional (µs precision is kept). */
  ts: number
  linkType: number
  /** Innermost IP header. */
  ip?: IpHeader
  tcp?: TcpHeader
  udp?: UdpHeader
  /** Tunnels the innermost IP packet was found in, outermost first. */
  tunnels?: TunnelInfo[]
  /** Some header or payload was cut short (snaplen or a malformed length). */
  truncated: boolean
  /** Malformed-ness found while decoding (bad lengths, unknown link type...). */
  issues?: Issue[]
}
