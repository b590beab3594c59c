/**
 * Link, IP, TCP, UDP and tunnel (GENEVE, VXLAN, GRE/ERSPAN) decoders on mutated real frames and
 * on arbitrary bytes under every link type they know: decodePacket never throws, finishes in
 * bounded time, and what it returns keeps its invariants (views inside the frame, captured
 * payload never longer than the wire payload, issues well-formed).
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {RawFrame} from '../../src/capture/types.js'
import {decodePacket} from '../../src/packet/packet.js'
import {applyEdits, CAPTURES, editArb, framesOf, noteAbsentCorpusSeeds, params, timed} from './support.js'

noteAbsentCorpusSeeds()
const FRAMES: RawFrame[] = ['tls13-lo.pcap', 'sll2.pcap', 'tun-raw-ip.pcap', 'tcpdump-geneve.pcap', 'gre-erspan-vxlan.pcap', 'ipv6.pcapng']
  .filter((name) => name in CAPTURES)
  .flatMap((name) => framesOf(CAPTURES[name]!).slice(0, 40))
/** LINKTYPE_ values the link decoder handles, and some it does not. */
const LINK_TYPES = [0, 1, 12, 101, 108, 113, 228, 229, 276, 147, 65535]

function checkPacket(frame: RawFrame): void {
  const packet = timed(`decoding frame ${frame.index}`, () => decodePacket(frame))
  expect(packet.frame).toBe(frame.index)
  for (const issue of packet.issues ?? []) {
    expect(issue.code).toMatch(/^[a-z0-9-]+\.[a-z0-9.-]+$/)
    expect(['info', 'warn', 'error']).toContain(issue.severity)
  }
  const tcp = packet.tcp
  if (tcp) {
    expect(packet.ip).toBeDefined()
    expect(tcp.payload.length).toBeLessThanOrEqual(tcp.payloadLength)
    // The payload is a view into the frame's own bytes, never past its end.
    expect(tcp.payload.buffer).toBe(frame.data.buffer)
    expect(tcp.payload.byteOffset + tcp.payload.length).toBeLessThanOrEqual(frame.data.byteOffset + frame.data.length)
    for (const n of [tcp.srcPort, tcp.dstPort]) expect(n >= 0 && n <= 0xffff).toBe(true)
    for (const n of [tcp.seq, tcp.ack]) expect(n >= 0 && n <= 0xffffffff && Number.isInteger(n)).toBe(true)
  }
  if (packet.udp) expect(packet.udp.payload.byteOffset + packet.udp.payload.length).toBeLessThanOrEqual(frame.data.byteOffset + frame.data.length)
  expect((packet.tunnels ?? []).length).toBeLessThanOrEqual(5)
}

describe('packet decoders never throw', () => {
  it('on mutated real frames (Ethernet, SLL2, raw IP, IPv6, GENEVE, VXLAN, GRE, ERSPAN)', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: FRAMES.length - 1}), fc.array(editArb, {maxLength: 4}), (i, edits) => {
        const frame = FRAMES[i]!
        const data = applyEdits(frame.data, edits)
        checkPacket({...frame, data, origLen: Math.max(frame.origLen, data.length)})
      }),
      params(2000),
    )
  })

  it('on arbitrary bytes under every link type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({maxLength: 200}), (linkType, data) => {
        checkPacket({index: 1, tsSec: 0, tsNsec: 0, linkType, data, origLen: data.length, interfaceId: 0})
      }),
      params(2000),
    )
  })

  it('on a real frame cut at every length (snaplen), with the wire length kept', () => {
    for (const frame of FRAMES) {
      for (let length = 0; length <= frame.data.length; length++) {
        checkPacket({...frame, data: frame.data.subarray(0, length)})
      }
    }
  })
})
