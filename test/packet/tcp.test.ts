/**
 * TCP options that lie about their length (RFC 9293 §3.2: a length covers kind and length
 * bytes; MSS is 4, timestamps 10, RFC 7323): the real SYN of fixtures/dissect/loopback-http
 * (options mss, sackOK, TS, nop, wscale) with one byte changed.
 */
import {describe, expect, it} from 'vitest'
import {decodePacket} from '../../src/packet/packet.js'
import {capturePath, expectedCaptures} from './expected.js'
import {loadFrames} from './load-frames.js'

const SOURCE = 'fixtures:dissect/loopback-http/ethernet.pcap'
const TCP_AT = 14 + 20

describe('malformed TCP headers', async () => {
  const expected = expectedCaptures().find((c) => c.source === SOURCE)!.frames[0]!
  const [syn] = (await loadFrames(capturePath(SOURCE))).frames
  const options = TCP_AT + 20

  function decodeChanged(at: number, value: number) {
    const data = Uint8Array.from(syn!.data)
    data[at] = value
    return decodePacket({...syn!, data})
  }

  it('the unchanged SYN has the options tshark shows', () => {
    expect(Array.from(syn!.data.subarray(options, options + 6))).toEqual([2, 4, 0xff, 0xd7, 4, 2])
    expect(syn!.data[options + 6]).toBe(8)
    expect(decodePacket(syn!).tcp!.options).toEqual(expected.tcp!.options)
  })

  it('a timestamps option of the wrong length stops option parsing with an Issue', () => {
    const packet = decodeChanged(options + 7, 11)
    expect(packet.issues?.map((i) => i.code)).toEqual(['tcp.bad-option'])
    expect(packet.issues![0]!.frame).toBe(1)
    expect(packet.tcp!.options).toEqual({mss: expected.tcp!.options!.mss, sackPermitted: true})
    expect(packet.tcp!.seq).toBe(expected.tcp!.seq)
    expect(packet.truncated).toBe(false)
  })

  it('an option length below 2 stops option parsing with an Issue', () => {
    const packet = decodeChanged(options + 1, 1)
    expect(packet.issues?.map((i) => i.code)).toEqual(['tcp.bad-option'])
    expect(packet.tcp!.options).toEqual({})
  })

  it('an option running past the header stops option parsing with an Issue', () => {
    // The last option is wscale (3 bytes) ending the 40-byte header; claim 4.
    const dataOffset = (syn!.data[TCP_AT + 12]! >> 4) * 4
    expect(syn!.data[TCP_AT + dataOffset - 3]).toBe(3)
    const packet = decodeChanged(TCP_AT + dataOffset - 2, 4)
    expect(packet.issues?.map((i) => i.code)).toEqual(['tcp.bad-option'])
    expect(packet.tcp!.options.windowScale).toBeUndefined()
    expect(packet.tcp!.options.tsVal).toBe(expected.tcp!.options!.tsVal)
  })

  it('a data offset below 5 words is an Issue and no TCP header', () => {
    const packet = decodeChanged(TCP_AT + 12, 0x40)
    expect(packet.issues?.map((i) => i.code)).toEqual(['tcp.bad-header-length'])
    expect(packet.tcp).toBeUndefined()
    expect(packet.ip!.src).toBe(expected.ip!.src)
  })

  it('a data offset past the segment is an Issue', () => {
    // 15 words = 60 bytes, but the SYN's IP payload is 40 bytes.
    const packet = decodeChanged(TCP_AT + 12, 0xf0)
    expect(packet.issues?.map((i) => i.code)).toEqual(['tcp.bad-header-length'])
    expect(packet.tcp).toBeUndefined()
  })
})
