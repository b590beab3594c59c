/**
 * Link types the corpus has no capture of (NULL in big-endian, LOOP, the raw-IP aliases 12/14/
 * 228/229, NULL with AF_INET): real IP packets from tshark-checked captures re-wrapped in those
 * link headers (https://www.tcpdump.org/linktypes.html) must decode to the same IP and TCP
 * headers tshark reported for the original frame.
 */
import {describe, expect, it} from 'vitest'
import type {RawFrame} from '../../src/capture/types.js'
import {decodePacket} from '../../src/packet/packet.js'
import {capturePath, expectedCaptures, type ExpectedFrame} from './expected.js'
import {describeWithJa4} from '../helpers/skip.js'
import {loadFrames} from './load-frames.js'

const AF_INET = 2
/** BSD AF_INET6 values: NetBSD/OpenBSD, FreeBSD, Darwin. */
const AF_INET6 = [24, 28, 30]

interface IpPacket {
  bytes: Uint8Array
  expected: ExpectedFrame
  frame: RawFrame
}

/** IP packets (link header stripped) of a capture whose tshark table is recorded. */
async function ipPackets(source: string, linkHeaderLength: number): Promise<IpPacket[]> {
  const capture = expectedCaptures().find((c) => c.source === source)!
  const {frames} = await loadFrames(capturePath(source))
  return frames
    .map((frame, i) => ({frame, expected: capture.frames[i]!, bytes: frame.data.subarray(linkHeaderLength)}))
    .filter((p) => p.expected.ip !== undefined)
}

function familyHeader(family: number, littleEndian: boolean): Uint8Array {
  const header = new Uint8Array(4)
  new DataView(header.buffer).setUint32(0, family, littleEndian)
  return header
}

function wrap(packet: IpPacket, linkType: number, header: Uint8Array = new Uint8Array(0)): RawFrame {
  const data = new Uint8Array(header.length + packet.bytes.length)
  data.set(header)
  data.set(packet.bytes, header.length)
  return {...packet.frame, linkType, data, origLen: data.length}
}

function expectSameAsTshark(frame: RawFrame, expected: ExpectedFrame): void {
  const packet = decodePacket(frame)
  expect(packet.issues).toBeUndefined()
  expect(packet.truncated).toBe(false)
  expect(packet.linkType).toBe(frame.linkType)
  expect(packet.ip).toMatchObject(expected.ip!)
  expect(packet.tcp === undefined).toBe(expected.tcp === undefined)
  if (expected.tcp) {
    const {options, ...fields} = expected.tcp
    expect(packet.tcp).toMatchObject(fields)
    if (options) expect(packet.tcp!.options).toEqual(options)
  }
}

describe('IPv4 packets in every link type', async () => {
  // Ethernet loopback capture (14-byte header) and the tun capture (raw IP, frame 1 is IPv4).
  const v4 = [
    ...(await ipPackets('fixtures:dissect/loopback-http/ethernet.pcap', 14)),
    ...(await ipPackets('fixtures:dissect/tun-raw-ip/capture.pcap', 0)).filter((p) => p.expected.ip!.version === 4),
  ]
  it('has packets to wrap', () => expect(v4.length).toBe(13))
  for (const [name, linkType, header] of [
    ['NULL, little-endian AF_INET', 0, familyHeader(AF_INET, true)],
    ['NULL, big-endian AF_INET', 0, familyHeader(AF_INET, false)],
    ['LOOP, AF_INET', 108, familyHeader(AF_INET, false)],
    ['RAW (101)', 101, undefined],
    ['RAW (12)', 12, undefined],
    ['RAW (14)', 14, undefined],
    ['IPV4 (228)', 228, undefined],
  ] as const) {
    it(name, () => {
      for (const packet of v4) expectSameAsTshark(wrap(packet, linkType, header), packet.expected)
    })
  }
})

describeWithJa4('IPv6 packets in every link type', async () => {
  // Darwin NULL capture (4-byte header, AF 30).
  const v6 = await ipPackets('corpus:ipv6.pcapng', 4)
  it('has packets to wrap', () => expect(v6.length).toBe(9))
  for (const family of AF_INET6) {
    it(`NULL, both byte orders, AF ${family}`, () => {
      for (const packet of v6) {
        expectSameAsTshark(wrap(packet, 0, familyHeader(family, true)), packet.expected)
        expectSameAsTshark(wrap(packet, 0, familyHeader(family, false)), packet.expected)
      }
    })
    it(`LOOP, AF ${family}`, () => {
      for (const packet of v6) expectSameAsTshark(wrap(packet, 108, familyHeader(family, false)), packet.expected)
    })
  }
  for (const linkType of [101, 12, 14, 229]) {
    it(`raw IP link type ${linkType}`, () => {
      for (const packet of v6) expectSameAsTshark(wrap(packet, linkType), packet.expected)
    })
  }
})

describeWithJa4('link layers that cannot be decoded', async () => {
  const [packet] = await ipPackets('corpus:ipv6.pcapng', 4)
  it('an unknown link type is an Issue, not a crash', () => {
    // LINKTYPE_IEEE802_11 (105): not a link this tool decodes.
    const decoded = decodePacket(wrap(packet!, 105))
    expect(decoded.ip).toBeUndefined()
    expect(decoded.truncated).toBe(false)
    expect(decoded.issues).toEqual([
      {code: 'link.unsupported', severity: 'warn', message: 'link type 105 is not supported; frame not decoded', frame: packet!.frame.index},
    ])
  })
  it('a loopback family other than IPv4/IPv6 is an Issue', () => {
    // AF_APPLETALK (16 on BSD).
    const decoded = decodePacket(wrap(packet!, 0, familyHeader(16, true)))
    expect(decoded.ip).toBeUndefined()
    expect(decoded.issues?.map((i) => i.code)).toEqual(['link.unsupported'])
  })
})
