/**
 * The packet driver: the one place that decides which decoder reads the next header. Each
 * decoder reads only its own header and hands over its payload (gopacket's layering); a cut
 * header sets `truncated`, a malformed one adds an Issue, and decoding stops there.
 */
import type {RawFrame} from '../capture/types.js'
import {noteIssue} from './feedback.js'
import {decodeGeneve, GENEVE_PORT, tunnelOption} from './geneve.js'
import {decodeGre, IPPROTO_GRE} from './gre.js'
import {IPPROTO_TCP, IPPROTO_UDP, type IpLayer} from './ip.js'
import {decodeIpv4} from './ipv4.js'
import {decodeIpv6} from './ipv6.js'
import {
  decodeEthernet,
  decodeLink,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_TEB,
  type LinkLayer,
} from './link.js'
import {decodeTcp} from './tcp.js'
import type {IpHeader, Packet, UdpHeader} from './types.js'
import {decodeUdp} from './udp.js'
import {decodeVxlan, VXLAN_PORT} from './vxlan.js'

/** Tunnels nested deeper than this are not opened, so crafted input cannot recurse forever. */
export const MAX_TUNNEL_DEPTH = 4

/** A Packet plus what the link layer knew. */
export interface DecodedPacket extends Packet {
  /** VLAN ids of the captured frame's 802.1Q / 802.1ad tags, outermost first. */
  vlanIds?: number[]
}

/**
 * Decodes a captured frame down to TCP or UDP, opening GENEVE, VXLAN, GRE and ERSPAN tunnels: `ip`, `tcp`, `udp` are
 * the innermost layers, `tunnels` the encapsulations outermost first. Never throws; views in
 * the result point into frame.data and share its lifetime.
 */
export function decodePacket(frame: RawFrame): DecodedPacket {
  const packet: DecodedPacket = {
    frame: frame.index,
    ts: frame.tsSec + frame.tsNsec / 1e9,
    linkType: frame.linkType,
    truncated: false,
  }
  const link = decodeLink(frame.linkType, frame.data, packet)
  if (link) {
    if (link.vlanIds) packet.vlanIds = link.vlanIds
    decodeNetwork(packet, link, 0)
  }
  return packet
}

function decodeNetwork(packet: DecodedPacket, link: LinkLayer, depth: number): void {
  let ip: IpLayer | undefined
  if (link.etherType === ETHERTYPE_IPV4) ip = decodeIpv4(link.payload, packet)
  else if (link.etherType === ETHERTYPE_IPV6) ip = decodeIpv6(link.payload, packet)
  if (!ip) return
  packet.ip = ip.header
  // Fragments are not reassembled. A non-first fragment has no transport header, and the first
  // one's transport lengths describe the whole datagram, which is not here either.
  if (ip.header.fragment) return
  if (ip.header.protocol === IPPROTO_TCP) {
    packet.tcp = decodeTcp(ip.payload, ip.payloadLength, packet)
  } else if (ip.header.protocol === IPPROTO_UDP) {
    const udp = decodeUdp(ip.payload, ip.payloadLength, packet)
    if (!udp) return
    packet.udp = udp
    if (udp.dstPort === GENEVE_PORT) openGeneve(packet, ip.header, udp, depth)
    else if (udp.dstPort === VXLAN_PORT || udp.srcPort === VXLAN_PORT) openVxlan(packet, ip.header, udp, depth)
  } else if (ip.header.protocol === IPPROTO_GRE) {
    openGre(packet, ip.header, ip.payload, depth)
  }
}

/** Whether another tunnel may be opened; notes the issue when not. */
function mayOpenTunnel(packet: DecodedPacket, depth: number): boolean {
  if (depth < MAX_TUNNEL_DEPTH) return true
  noteIssue(packet, 'tunnel.too-deep', `more than ${MAX_TUNNEL_DEPTH} nested tunnels; inner layers not decoded`)
  return false
}

function openVxlan(packet: DecodedPacket, outer: IpHeader, udp: UdpHeader, depth: number): void {
  if (!mayOpenTunnel(packet, depth)) return
  const vxlan = decodeVxlan(udp.payload, packet)
  if (!vxlan) return
  ;(packet.tunnels ??= []).push({type: 'vxlan', vni: vxlan.vni, outerSrc: outer.src, outerDst: outer.dst, options: []})
  packet.udp = undefined
  const inner = decodeEthernet(vxlan.payload, packet)
  if (inner) decodeNetwork(packet, inner, depth + 1)
}

function openGre(packet: DecodedPacket, outer: IpHeader, payload: Uint8Array, depth: number): void {
  if (!mayOpenTunnel(packet, depth)) return
  const gre = decodeGre(payload, packet)
  if (!gre) return
  ;(packet.tunnels ??= []).push({type: gre.erspan ? 'erspan' : 'gre', vni: gre.key, outerSrc: outer.src, outerDst: outer.dst, options: []})
  const inner = gre.protocolType === ETHERTYPE_TEB ? decodeEthernet(gre.payload, packet) : {etherType: gre.protocolType, payload: gre.payload}
  if (inner) decodeNetwork(packet, inner, depth + 1)
}

function openGeneve(packet: DecodedPacket, outer: IpHeader, udp: UdpHeader, depth: number): void {
  if (!mayOpenTunnel(packet, depth)) return
  const geneve = decodeGeneve(udp.payload, packet)
  if (!geneve) return
  ;(packet.tunnels ??= []).push({
    type: 'geneve',
    vni: geneve.vni,
    outerSrc: outer.src,
    outerDst: outer.dst,
    options: geneve.options.map(tunnelOption),
  })
  // The tunnel's UDP is described by `tunnels`; `udp` is for an inner datagram only.
  packet.udp = undefined
  const inner =
    geneve.protocolType === ETHERTYPE_TEB
      ? decodeEthernet(geneve.payload, packet)
      : {etherType: geneve.protocolType, payload: geneve.payload}
  if (inner) decodeNetwork(packet, inner, depth + 1)
}
