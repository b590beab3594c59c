/**
 * decodePacket against tshark, every frame of every classic pcap in the corpus and in
 * fixtures/dissect: link (Ethernet, SLL, SLL2, NULL), IPv4/IPv6 addresses, protocol, TTL,
 * fragments, TCP ports/seq/ack/flags/window/length/options, UDP, GENEVE tunnels.
 * The tables come from make-expected.sh (tshark 4.0, reassembly off).
 */
import {describe, expect, it} from 'vitest'
import {decodePacket} from '../../src/packet/packet.js'
import {capturePath, presentCaptures, type ExpectedFrame} from './expected.js'
import {loadFrames} from './load-frames.js'
import type {DecodedPacket} from '../../src/packet/packet.js'

/** The decoded packet in the shape of the expected table (fields tshark can vouch for). */
function asExpected(packet: DecodedPacket, expected: ExpectedFrame): ExpectedFrame {
  const actual: ExpectedFrame = {frame: packet.frame}
  if (packet.vlanIds) actual.vlanIds = packet.vlanIds
  if (packet.ip) {
    const {version, src, dst, protocol, ttl, fragment} = packet.ip
    actual.ip = {version, src, dst, protocol, ttl}
    if (fragment) actual.ip.fragment = fragment
  }
  if (packet.tcp) {
    const {srcPort, dstPort, seq, ack, flags, window, payloadLength, options} = packet.tcp
    actual.tcp = {srcPort, dstPort, seq, ack, flags, window, payloadLength}
    if (expected.tcp?.options) actual.tcp.options = options
  }
  if (packet.udp) actual.udp = {srcPort: packet.udp.srcPort, dstPort: packet.udp.dstPort, length: packet.udp.length}
  if (packet.tunnels) {
    actual.tunnels = packet.tunnels.map((tunnel, i) => {
      const want = expected.tunnels?.[i]
      return {
        vni: tunnel.vni,
        outerSrc: tunnel.outerSrc,
        outerDst: tunnel.outerDst,
        // flags and protocol type are GENEVE-layer facts, checked in geneve.test.ts.
        ...(want && 'flags' in want && {flags: want.flags, protocolType: want.protocolType}),
        ...(want?.options && {
          options: tunnel.options.map((o) => ({optionClass: o.optionClass, type: o.type, data: o.data})),
        }),
      }
    })
  }
  if (expected.ipEnd !== undefined) actual.ipEnd = expected.ipEnd
  return actual
}

describe('decodePacket matches tshark on every frame', () => {
  for (const capture of presentCaptures()) {
    it(`${capture.source} (${capture.frames.length} frames)`, async () => {
      const {linkType, frames} = await loadFrames(capturePath(capture.source))
      expect(linkType).toBe(capture.linkType)
      expect(frames.length).toBe(capture.frames.length)
      for (const [i, frame] of frames.entries()) {
        const expected = capture.frames[i]!
        const packet = decodePacket(frame)
        expect(asExpected(packet, expected), `frame ${frame.index}`).toEqual(expected)
        expect(packet.ts).toBe(frame.tsSec + frame.tsNsec / 1e9)
        // A frame shorter than its IP packet says it is cut (snaplen); a whole one is not.
        const cut = expected.ipEnd !== undefined && frame.data.length < expected.ipEnd
        expect(packet.truncated, `frame ${frame.index} truncated`).toBe(cut)
        // Real headers are well-formed: nothing to report.
        expect(packet.issues, `frame ${frame.index} issues`).toBeUndefined()
        if (packet.tcp) {
          if (cut) expect(packet.tcp.payload.length).toBeLessThan(packet.tcp.payloadLength)
          else expect(packet.tcp.payload.length).toBe(packet.tcp.payloadLength)
        }
      }
    })
  }
})
