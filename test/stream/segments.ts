/** Test helper: dissect-layer Packet values for one TCP segment, as decodePacket would produce them. */
import {TCP_ACK, type Packet, type TcpOptions, type TunnelInfo} from '../../src/packet/types.js'

export interface SegmentSpec {
  frame: number
  /** Seconds. */
  ts?: number
  src: string
  sport: number
  dst: string
  dport: number
  seq: number
  ack?: number
  flags?: number
  payload?: Uint8Array
  /** Wire payload length when snaplen cut `payload`. */
  payloadLength?: number
  options?: TcpOptions
  vni?: number
}

export function segment(spec: SegmentSpec): Packet {
  const payload = spec.payload ?? new Uint8Array(0)
  const tunnels: TunnelInfo[] | undefined =
    spec.vni === undefined ? undefined : [{type: 'geneve', vni: spec.vni, outerSrc: '192.0.2.1', outerDst: '192.0.2.2', options: []}]
  return {
    frame: spec.frame,
    ts: spec.ts ?? spec.frame / 1000,
    linkType: 1,
    ip: {version: 4, src: spec.src, dst: spec.dst, protocol: 6, ttl: 64},
    tcp: {
      srcPort: spec.sport,
      dstPort: spec.dport,
      seq: spec.seq >>> 0,
      ack: (spec.ack ?? 0) >>> 0,
      flags: spec.flags ?? TCP_ACK,
      window: 65535,
      options: spec.options ?? {},
      payload,
      payloadLength: spec.payloadLength ?? payload.length,
    },
    ...(tunnels === undefined ? {} : {tunnels}),
    truncated: (spec.payloadLength ?? payload.length) > payload.length,
  }
}
