/**
 * GENEVE (RFC 8926) on the corpus capture tcpdump-geneve.pcap: header fields against tshark,
 * nesting limited to MAX_TUNNEL_DEPTH, and malformed headers reported, not thrown.
 */
import {expect, it} from 'vitest'
import type {RawFrame} from '../../src/capture/types.js'
import {decodeGeneve} from '../../src/packet/geneve.js'
import {decodeIpv4} from '../../src/packet/ipv4.js'
import {decodeEthernet} from '../../src/packet/link.js'
import {decodePacket, MAX_TUNNEL_DEPTH} from '../../src/packet/packet.js'
import {decodeUdp} from '../../src/packet/udp.js'
import {capturePath, expectedCaptures, hex} from './expected.js'
import {loadFrames} from './load-frames.js'
import {describeWithJa4} from '../helpers/skip.js'

const SOURCE = 'corpus:tcpdump-geneve.pcap'

describeWithJa4('GENEVE', async () => {
  const capture = expectedCaptures().find((c) => c.source === SOURCE)!
  const {frames} = await loadFrames(capturePath(SOURCE))

  /** The outer Ethernet/IPv4/UDP layers of a corpus frame, decoded with the layer functions. */
  function outerUdpPayload(frame: RawFrame): Uint8Array {
    const feedback = {frame: frame.index, truncated: false}
    const ip = decodeIpv4(decodeEthernet(frame.data, feedback)!.payload, feedback)!
    return decodeUdp(ip.payload, ip.payloadLength, feedback)!.payload
  }

  it('header fields match tshark on every frame', () => {
    expect(frames.length).toBe(39)
    for (const [i, frame] of frames.entries()) {
      const [tunnel] = capture.frames[i]!.tunnels!
      const feedback = {frame: frame.index, truncated: false}
      const geneve = decodeGeneve(outerUdpPayload(frame), feedback)!
      expect(feedback).toEqual({frame: frame.index, truncated: false})
      expect(geneve.version).toBe(0)
      expect(geneve.vni).toBe(tunnel!.vni)
      expect(geneve.oam).toBe((tunnel!.flags! & 0x80) !== 0)
      expect(geneve.critical).toBe((tunnel!.flags! & 0x40) !== 0)
      expect(geneve.protocolType).toBe(tunnel!.protocolType)
      expect(geneve.options.map((o) => ({optionClass: o.optionClass, type: o.type, data: hex(o.data)}))).toEqual(tunnel!.options)
    }
  })

  // Frame 3 is a TCP SYN inside GENEVE (VNI 11, no options); frame 1 carries an option.
  const syn = frames[2]!
  const synExpected = capture.frames[2]!
  const withOption = frames[0]!

  /**
   * Wraps `inner` (an Ethernet frame) in one more Ethernet/IPv4/UDP/GENEVE layer copied from the
   * real frame 3, with the IPv4 total length and UDP length patched to the new size.
   */
  function encapsulate(inner: Uint8Array): Uint8Array {
    const headerLength = 14 + 20 + 8 + 8 // frame 3: IHL 5, no GENEVE options
    const out = new Uint8Array(headerLength + inner.length)
    out.set(syn.data.subarray(0, headerLength))
    out.set(inner, headerLength)
    const view = new DataView(out.buffer)
    view.setUint16(14 + 2, out.length - 14)
    view.setUint16(14 + 20 + 4, out.length - 14 - 20)
    return out
  }

  it(`opens at most ${MAX_TUNNEL_DEPTH} nested tunnels`, () => {
    expect(syn.data[14]).toBe(0x45)
    let data = syn.data
    for (let tunnels = 1; tunnels <= MAX_TUNNEL_DEPTH + 2; tunnels++) {
      const packet = decodePacket({...syn, data, origLen: data.length})
      expect(packet.truncated).toBe(false)
      if (tunnels <= MAX_TUNNEL_DEPTH) {
        expect(packet.tunnels).toHaveLength(tunnels)
        expect(packet.issues).toBeUndefined()
        expect(packet.ip).toMatchObject({src: synExpected.ip!.src, dst: synExpected.ip!.dst})
        expect(packet.tcp).toMatchObject({seq: synExpected.tcp!.seq, srcPort: synExpected.tcp!.srcPort})
        expect(packet.udp).toBeUndefined()
      } else {
        expect(packet.tunnels).toHaveLength(MAX_TUNNEL_DEPTH)
        expect(packet.tcp).toBeUndefined()
        expect(packet.issues?.map((i) => i.code)).toEqual(['tunnel.too-deep'])
      }
      data = encapsulate(data)
    }
  })

  it('an unknown version is an Issue and the inner packet is left alone', () => {
    const data = Uint8Array.from(syn.data)
    data[14 + 20 + 8] = 0x40 // version 1 (RFC 8926 §3.4: unknown versions are dropped)
    const packet = decodePacket({...syn, data})
    expect(packet.issues?.map((i) => i.code)).toEqual(['geneve.bad-version'])
    expect(packet.tunnels).toBeUndefined()
    expect(packet.ip!.protocol).toBe(17)
    expect(packet.udp!.dstPort).toBe(6081)
    expect(packet.tcp).toBeUndefined()
  })

  it('an option longer than the options area is an Issue', () => {
    // Frame 1: Opt Len 2 words holding one option with 1 word of data; claim 2 words of data.
    const data = Uint8Array.from(withOption.data)
    const geneveAt = 14 + 20 + 8
    expect(data[geneveAt]! & 0x3f).toBe(2)
    expect(data[geneveAt + 8 + 3]! & 0x1f).toBe(1)
    data[geneveAt + 8 + 3] = 2
    const packet = decodePacket({...withOption, data})
    expect(packet.issues?.map((i) => i.code)).toEqual(['geneve.bad-option'])
    expect(packet.tunnels).toBeUndefined()
    expect(packet.truncated).toBe(false)
  })
})
