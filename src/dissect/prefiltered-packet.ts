/**
 * The Packet of a plain TCP segment built straight from what prefilterFrame() read at fixed
 * offsets: on a Console-side capture nearly every frame is one, and decodePacket()'s layer by
 * layer walk (a view and an object per layer, ~1.5 KB of garbage a frame) was a third of the
 * time spent collecting garbage. The result is the Packet decodePacket() gives for the same
 * frame (test/dissect/prefiltered-packet.test.ts compares them on every fixture and corpus
 * frame); frames with VLAN tags are left to decodePacket(), which lists their VLAN ids.
 */
import {formatIpv4, formatIpv6} from './address.js'
import type {PrefilteredTcp} from './prefilter.js'
import {IPPROTO_TCP} from './ip.js'
import {decodeTcpOptions} from './tcp.js'
import type {Packet} from './types.js'

/**
 * `p` is prefilterFrame()'s output for data[start, end), which it classed FRAME_TCP; undefined
 * when the frame had VLAN tags (decode it in full).
 */
export function packetFromPrefiltered(data: Uint8Array, start: number, end: number, linkType: number, frame: number, ts: number, p: PrefilteredTcp): Packet | undefined {
  if (p.tagged) return undefined
  const tcpAt = p.tcpAt
  const headerLength = p.tcpHeaderLength
  // The IP payload ends where the IP header says (Ethernet padding trimmed) or where the capture
  // was cut, whichever comes first; the TCP payload is what follows the TCP header in it.
  const ipEnd = Math.min(tcpAt + p.tcpWireLength, end)
  const payloadLength = p.tcpWireLength - headerLength
  const payload = data.subarray(tcpAt + headerLength, ipEnd)
  const packet: Packet = {
    frame,
    ts,
    linkType,
    truncated: payload.length < payloadLength,
    ip: {
      version: p.v6 ? 6 : 4,
      src: p.v6 ? formatIpv6(data, p.srcAddr) : formatIpv4(data, p.srcAddr),
      dst: p.v6 ? formatIpv6(data, p.dstAddr) : formatIpv4(data, p.dstAddr),
      protocol: IPPROTO_TCP,
      ttl: p.ttl,
    },
    tcp: {
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      seq: readUint32(data, tcpAt + 4),
      ack: readUint32(data, tcpAt + 8),
      flags: p.flags,
      window: (data[tcpAt + 14]! << 8) | data[tcpAt + 15]!,
      // prefilterFrame() checked the options' lengths: no Issue can come of them here.
      options: headerLength > 20 ? decodeTcpOptions(data, tcpAt, headerLength, NO_FEEDBACK) : {},
      payload,
      payloadLength,
    },
  }
  return packet
}

const NO_FEEDBACK = {frame: 0, truncated: false}

function readUint32(data: Uint8Array, offset: number): number {
  return ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0
}
