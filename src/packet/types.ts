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

export interface GeneveOption {
  optionClass: number
  type: number
  data: Uint8Array
}

/** An encapsulation the packet arrived in (outermost first in Packet.tunnels). */
export interface TunnelInfo {
  type: 'geneve' | 'vxlan' | 'gre' | 'erspan'
  /** GENEVE/VXLAN VNI, GRE key, ERSPAN session id; 0 when the header has none. */
  vni: number
  outerSrc: string
  outerDst: string
  options: GeneveOption[]
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
