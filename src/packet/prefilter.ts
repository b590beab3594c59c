/**
 * The fast path for big captures: classifies a frame by reading its headers at fixed offsets,
 * without building a Packet, so the analysis can pass over the non-Console majority of a busy
 * capture at close to disk speed and decode in full only what it needs.
 *
 * It answers FRAME_TCP or FRAME_OTHER only for frames whose every header decodePacket() would
 * read cleanly (no Issue, no tunnel, no fragment): the same checks as link.ts, ipv4.ts, ipv6.ts,
 * tcp.ts and udp.ts, in the same order. Anything else is FRAME_DECODE: tunnels (GENEVE, VXLAN,
 * GRE), IPv6 extension headers, IP fragments, cut or malformed headers, unusual link types.
 */
import {GENEVE_PORT} from './geneve.js'
import {IPPROTO_GRE} from './gre.js'
import {IPPROTO_TCP, IPPROTO_UDP} from './ip.js'
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_QINQ_LEGACY,
  ETHERTYPE_VLAN,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
} from './link.js'
import {VXLAN_PORT} from './vxlan.js'

/** Decode the frame with decodePacket(): the fast path cannot vouch for it. */
export const FRAME_DECODE = 0
/** A plain TCP segment over IPv4 or IPv6; `PrefilteredTcp` holds its ports and addresses. */
export const FRAME_TCP = 1
/** Well-formed IP traffic that carries neither TCP nor a tunnel: nothing for a TCP analysis. */
export const FRAME_OTHER = 2

/** Where the fast path leaves what it read; one instance is reused for every frame. */
export interface PrefilteredTcp {
  srcPort: number
  dstPort: number
  flags: number
  v6: boolean
  /** Offsets in the frame of the source and destination addresses (4 or 16 bytes). */
  srcAddr: number
  dstAddr: number
  /** The frame carried 802.1Q / 802.1ad tags. */
  tagged: boolean
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number
  /** Offset in the frame (in `data`) of the TCP header, and its length with options. */
  tcpAt: number
  tcpHeaderLength: number
  /** TCP segment length on the wire (header included), from the IP header. */
  tcpWireLength: number
}

export function newPrefilteredTcp(): PrefilteredTcp {
  return {srcPort: 0, dstPort: 0, flags: 0, v6: false, srcAddr: 0, dstAddr: 0, tagged: false, ttl: 0, tcpAt: 0, tcpHeaderLength: 0, tcpWireLength: 0}
}

/**
 * Classifies the frame data[start, end) of `linkType` (the capture reader's buffer, so no view
 * is made per frame); on FRAME_TCP fills `out`, whose address offsets index `data`.
 */
export function prefilterFrame(linkType: number, data: Uint8Array, start: number, end: number, out: PrefilteredTcp): number {
  const length = end - start
  let offset: number
  let etherType: number
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      if (length < 14) return FRAME_DECODE
      offset = 14
      etherType = (data[start + 12]! << 8) | data[start + 13]!
      break
    case LINKTYPE_LINUX_SLL2:
      if (length < 20) return FRAME_DECODE
      offset = 20
      etherType = (data[start + 0]! << 8) | data[start + 1]!
      break
    case LINKTYPE_LINUX_SLL:
      if (length < 16) return FRAME_DECODE
      offset = 16
      etherType = (data[start + 14]! << 8) | data[start + 15]!
      break
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      if (length < 1) return FRAME_DECODE
      offset = 0
      etherType = data[start + 0]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4
      if ((linkType === LINKTYPE_IPV4 && etherType !== ETHERTYPE_IPV4) || (linkType === LINKTYPE_IPV6 && etherType !== ETHERTYPE_IPV6)) return FRAME_DECODE
      break
    default:
      return FRAME_DECODE
  }
  // 802.1Q / 802.1ad tags, as link.ts skips them.
  out.tagged = false
  while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_LEGACY) {
    if (length < offset + 4) return FRAME_DECODE
    etherType = (data[start + offset + 2]! << 8) | data[start + offset + 3]!
    offset += 4
    out.tagged = true
  }
  let protocol: number
  let transport: number
  /** Transport length on the wire (from the IP header). */
  let wireLength: number
  if (etherType === ETHERTYPE_IPV4) {
    if (length < offset + 20) return FRAME_DECODE
    const first = data[start + offset]!
    const headerLength = (first & 0x0f) * 4
    if (first >> 4 !== 4 || headerLength < 20 || length < offset + headerLength) return FRAME_DECODE
    const totalLength = (data[start + offset + 2]! << 8) | data[start + offset + 3]!
    if (totalLength < headerLength) return FRAME_DECODE // 0 (TSO) or malformed: let ipv4.ts decide
    // More-fragments flag or a fragment offset (RFC 791 §3.1).
    if ((((data[start + offset + 6]! << 8) | data[start + offset + 7]!) & 0x3fff) !== 0) return FRAME_DECODE
    protocol = data[start + offset + 9]!
    transport = offset + headerLength
    wireLength = totalLength - headerLength
    out.v6 = false
    out.ttl = data[start + offset + 8]!
    out.srcAddr = start + offset + 12
    out.dstAddr = start + offset + 16
  } else if (etherType === ETHERTYPE_IPV6) {
    if (length < offset + 40 || data[start + offset]! >> 4 !== 6) return FRAME_DECODE
    wireLength = (data[start + offset + 4]! << 8) | data[start + offset + 5]!
    if (wireLength === 0) return FRAME_DECODE
    protocol = data[start + offset + 6]!
    transport = offset + 40
    out.v6 = true
    out.ttl = data[start + offset + 7]!
    out.srcAddr = start + offset + 8
    out.dstAddr = start + offset + 24
  } else {
    return FRAME_DECODE
  }
  if (protocol === IPPROTO_TCP) {
    if (length < transport + 20) return FRAME_DECODE
    const headerLength = (data[start + transport + 12]! >> 4) * 4
    if (headerLength < 20 || headerLength > wireLength || length < transport + headerLength) return FRAME_DECODE
    if (headerLength > 20 && !optionsWellFormed(data, start + transport + 20, start + transport + headerLength)) return FRAME_DECODE
    out.srcPort = (data[start + transport]! << 8) | data[start + transport + 1]!
    out.dstPort = (data[start + transport + 2]! << 8) | data[start + transport + 3]!
    out.flags = data[start + transport + 13]!
    out.tcpAt = start + transport
    out.tcpHeaderLength = headerLength
    out.tcpWireLength = wireLength
    return FRAME_TCP
  }
  if (protocol === IPPROTO_UDP) {
    if (length < transport + 8) return FRAME_DECODE
    const udpLength = (data[start + transport + 4]! << 8) | data[start + transport + 5]!
    if (udpLength < 8 || udpLength > wireLength) return FRAME_DECODE
    const srcPort = (data[start + transport]! << 8) | data[start + transport + 1]!
    const dstPort = (data[start + transport + 2]! << 8) | data[start + transport + 3]!
    if (dstPort === GENEVE_PORT || dstPort === VXLAN_PORT || srcPort === VXLAN_PORT) return FRAME_DECODE
    return FRAME_OTHER
  }
  // GRE is a tunnel; an IPv6 next header may be an extension header in front of TCP.
  if (protocol === IPPROTO_GRE || (out.v6 && isIpv6ExtensionHeader(protocol))) return FRAME_DECODE
  return FRAME_OTHER
}

/** RFC 8200 §4 extension headers (and the ones ipv6.ts skips): the transport comes after them. */
function isIpv6ExtensionHeader(next: number): boolean {
  return next === 0 || next === 43 || next === 44 || next === 51 || next === 60 || next === 135 || next === 139 || next === 140
}

/** The option-length rules of tcp.ts's decodeOptions: true when it would note no Issue. */
function optionsWellFormed(data: Uint8Array, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const kind = data[i]!
    if (kind === 0) return true
    if (kind === 1) {
      i++
      continue
    }
    const length = i + 1 < end ? data[i + 1]! : 0
    if (length < 2 || i + length > end) return false
    switch (kind) {
      case 2:
        if (length !== 4) return false
        break
      case 3:
        if (length !== 3) return false
        break
      case 4:
        if (length !== 2) return false
        break
      case 5:
        if (length < 10 || (length - 2) % 8 !== 0) return false
        break
      case 8:
        if (length !== 10) return false
        break
    }
    i += length
  }
  return true
}
