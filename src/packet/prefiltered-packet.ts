/**
 * The Packet of a plain TCP segment built straight from what prefilterFrame() read at fixed
 * offsets: on a Console-side capture nearly every frame is one, and decodePacket()'s layer by
 * layer walk (a view and an object per layer, ~1.5 KB of garbage a frame) was a third of the
 * time spent collecting garbage. The result is the Packet decodePacket() gives for the same
 * frame (test/packet/prefilter.test.ts compares them on every fixture and corpus frame);
 * frames with VLAN tags are left to decodePacket(), which lists their VLAN ids.
 *
 * A PrefilteredPacketBuilder hands out ONE Packet, refilled for every frame: the tracker reads a
 * packet during push() and keeps none of its objects (the rule is stated on
 * ConnectionTracker.push: it copies what it keeps: ports, numbers, the SYN options, the
 * tunnels), so a Console-side capture of millions of segments makes no Packet garbage at all. The TCP options are decoded when asked for — only a SYN's are.
 */
import {formatIpv4, formatIpv6} from './address.js'
import type {PrefilteredTcp} from './prefilter.js'
import {IPPROTO_TCP} from './ip.js'
import {decodeTcpOptions} from './tcp.js'
import type {IpHeader, Packet, TcpHeader, TcpOptions} from './types.js'

const EMPTY = new Uint8Array(0)
const NO_FEEDBACK = {frame: 0, truncated: false}
/** Options of a header without any: shared, and frozen so that no reader can change it for all. */
const NO_OPTIONS: TcpOptions = Object.freeze({})

/**
 * A TcpHeader whose options are read from the frame on first use. The frame bytes are the capture
 * reader's buffer, valid while the packet is being handled: like `payload`, `options` must be
 * read during that call (the tracker reads a SYN's options in push()).
 */
class PrefilteredTcpHeader implements TcpHeader {
  srcPort = 0
  dstPort = 0
  seq = 0
  ack = 0
  flags = 0
  window = 0
  payload: Uint8Array = EMPTY
  payloadLength = 0
  // #private: not own enumerable properties, so the header compares equal to decodePacket's.
  #data: Uint8Array = EMPTY
  #at = 0
  #headerLength = 20
  #options: TcpOptions | undefined = undefined

  get options(): TcpOptions {
    // prefilterFrame() checked the options' lengths: no Issue can come of them here.
    this.#options ??= this.#headerLength > 20 ? decodeTcpOptions(this.#data, this.#at, this.#headerLength, NO_FEEDBACK) : NO_OPTIONS
    return this.#options
  }

  refill(data: Uint8Array, at: number, headerLength: number): void {
    this.#data = data
    this.#at = at
    this.#headerLength = headerLength
    this.#options = undefined
  }
}

type BuiltPacket = Packet & {ip: IpHeader; tcp: PrefilteredTcpHeader}

/** Builds the Packet of prefiltered frames into one reused object (see the module comment). */
export class PrefilteredPacketBuilder {
  private readonly packet: BuiltPacket = {
    frame: 0,
    ts: 0,
    linkType: 0,
    truncated: false,
    ip: {version: 4, src: '', dst: '', protocol: IPPROTO_TCP, ttl: 0},
    tcp: new PrefilteredTcpHeader(),
  }

  /**
   * `p` is prefilterFrame()'s output for data[start, end), which it classed FRAME_TCP; undefined
   * when the frame had VLAN tags (decode it in full). The Packet is valid until the next call.
   */
  build(data: Uint8Array, start: number, end: number, linkType: number, frame: number, ts: number, p: PrefilteredTcp): Packet | undefined {
    if (p.tagged) return undefined
    const tcpAt = p.tcpAt
    const headerLength = p.tcpHeaderLength
    // The IP payload ends where the IP header says (Ethernet padding trimmed) or where the capture
    // was cut, whichever comes first; the TCP payload is what follows the TCP header in it.
    const ipEnd = Math.min(tcpAt + p.tcpWireLength, end)
    const payloadLength = p.tcpWireLength - headerLength
    const payloadStart = tcpAt + headerLength
    const captured = ipEnd - payloadStart
    const packet = this.packet
    packet.frame = frame
    packet.ts = ts
    packet.linkType = linkType
    packet.truncated = captured < payloadLength
    const ip = packet.ip
    ip.version = p.v6 ? 6 : 4
    // The formatters cache by address: the same string instance for every packet of a host.
    ip.src = p.v6 ? formatIpv6(data, p.srcAddr) : formatIpv4(data, p.srcAddr)
    ip.dst = p.v6 ? formatIpv6(data, p.dstAddr) : formatIpv4(data, p.dstAddr)
    ip.ttl = p.ttl
    const tcp = packet.tcp
    tcp.srcPort = p.srcPort
    tcp.dstPort = p.dstPort
    tcp.seq = readUint32(data, tcpAt + 4)
    tcp.ack = readUint32(data, tcpAt + 8)
    tcp.flags = p.flags
    tcp.window = (data[tcpAt + 14]! << 8) | data[tcpAt + 15]!
    // A pure ACK (most of a capture's segments) needs no view of its empty payload.
    tcp.payload = captured > 0 ? data.subarray(payloadStart, ipEnd) : EMPTY
    tcp.payloadLength = payloadLength
    tcp.refill(data, tcpAt, headerLength)
    return packet
  }
}

function readUint32(data: Uint8Array, offset: number): number {
  return ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0
}
