/**
 * HandshakeReader: messages that span records and records that hold several messages, on real
 * handshakes, whatever the record fragmentation (RFC 8446 §5.1 lets a sender cut handshake
 * messages into records of any size) and wherever the bytes are split.
 */
import {describe, expect, it} from 'vitest'
import type {FrameRef} from '../../../src/stream/types.js'
import {HandshakeReader} from '../../../src/protocols/tls/handshake.js'
import {handshakeMessagesOf} from './feed.js'
import {directionBytes, streamVector} from './streams.js'
import {fromHex, nums, vectors} from './vectors.js'

interface Seen {
  type: number
  hex: string
  frame: number
}

function reader(max?: number): {h: HandshakeReader; seen: Seen[]; issues: string[]} {
  const seen: Seen[] = []
  const issues: string[] = []
  const h = new HandshakeReader(
    {
      message: (m) => seen.push({type: m.type, hex: Buffer.from(m.body).toString('hex'), frame: m.ref.frame}),
      malformed: (code) => issues.push(code),
    },
    max,
  )
  return {h, seen, issues}
}

const ref = (frame: number): FrameRef => ({frame, ts: frame})

/** The handshake byte stream (record fragments of content type 22, concatenated) of a direction's plaintext start. */
function handshakeStream(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = []
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!
    if (bytes[at] === 22) parts.push(bytes.subarray(at + 5, at + 5 + length))
    if (bytes[at] === 20) break // ChangeCipherSpec: what follows is encrypted (TLS 1.2)
    at += 5 + length
  }
  return Buffer.concat(parts)
}

describe('handshake reassembly on the TLS 1.2 server flight of fixtures/tls/openssl12-mtls', () => {
  const s = streamVector('fixtures/tls/openssl12-mtls/capture.pcap')
  const stream = handshakeStream(directionBytes(s, 's2c'))
  const whole = reader()
  whole.h.push(stream, ref(1))

  it('finds the plaintext messages tshark lists (ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone, NewSessionTicket)', () => {
    const tsharkTypes = s.tshark.filter((t) => t.srcPort !== s.clientPort).flatMap((t) => nums(t['tls.handshake.type']))
    expect(whole.seen.map((m) => m.type)).toEqual(tsharkTypes)
    expect(whole.seen.map((m) => m.type)).toEqual([2, 11, 12, 13, 14, 4])
    expect(whole.h.pendingBytes).toBe(0)
  })

  it('gives the same messages for every byte split, referenced to the chunk of their last byte', () => {
    const ends: number[] = []
    let at = 0
    for (const m of whole.seen) ends.push((at += 4 + m.hex.length / 2))
    for (let i = 1; i < stream.length; i++) {
      const split = reader()
      split.h.push(stream.subarray(0, i), ref(1))
      split.h.push(stream.subarray(i), ref(2))
      expect(split.seen.map((m) => [m.type, m.hex])).toEqual(whole.seen.map((m) => [m.type, m.hex]))
      expect(split.seen.map((m) => m.frame)).toEqual(ends.map((end) => (end <= i ? 1 : 2)))
    }
  })
})

describe('a ClientHello cut into records of every size', () => {
  // A real ClientHello (first corpus vector), re-framed into records of n bytes each.
  const original = handshakeMessagesOf(fromHex(vectors.clientHellos[0]!.hex))[0]!
  const message = Buffer.concat([Uint8Array.of(1, original.body.length >> 16, (original.body.length >> 8) & 0xff, original.body.length & 0xff), original.body])

  it('reassembles it identically through the record reader for fragment sizes 1..length', () => {
    for (let n = 1; n <= message.length; n++) {
      const records: Buffer[] = []
      for (let at = 0; at < message.length; at += n) {
        const fragment = message.subarray(at, Math.min(at + n, message.length))
        records.push(Buffer.concat([Uint8Array.of(22, 3, 1, fragment.length >> 8, fragment.length & 0xff), fragment]))
      }
      const got = handshakeMessagesOf(Buffer.concat(records))
      expect(got.length).toBe(1)
      expect(Buffer.from(got[0]!.body).equals(Buffer.from(original.body))).toBe(true)
    }
  })
})

describe('handshake reader limits', () => {
  it('accepts a message at the limit and rejects one byte over it with an issue, then stops', () => {
    const atLimit = reader(16)
    atLimit.h.push(Uint8Array.of(20, 0, 0, 16, ...new Array<number>(16).fill(7)), ref(1))
    expect(atLimit.seen.length).toBe(1)
    const over = reader(16)
    over.h.push(Uint8Array.of(11, 0, 0, 17), ref(3))
    expect(over.issues).toEqual(['tls.handshake-too-large'])
    expect(over.h.stopped).toBe(true)
    over.h.push(Uint8Array.of(20, 0, 0, 0), ref(4))
    expect(over.seen).toEqual([])
  })

  it('defaults to 1 MiB (raised from 256 KiB for issue 15: Zeek\'s 340 kB Certificate trace)', () => {
    const r = reader()
    r.h.push(Uint8Array.of(11, 0x10, 0x00, 0x00), ref(1))
    expect(r.issues).toEqual([])
    expect(r.h.pendingBytes).toBe(4)
    const big = reader()
    big.h.push(Uint8Array.of(11, 0x10, 0x00, 0x01), ref(1))
    expect(big.issues).toEqual(['tls.handshake-too-large'])
  })

  it('names the refused message, its length and the limit', () => {
    const got: unknown[] = []
    const h = new HandshakeReader({message: () => undefined, malformed: (code, message, at, oversized) => got.push({code, message, frame: at.frame, oversized})}, 1000)
    h.push(Uint8Array.of(11, 0x00, 0x10, 0x00), ref(7))
    expect(got).toEqual([
      {code: 'tls.handshake-too-large', message: "certificate message of 4096 bytes exceeds the 1000-byte limit (maxHandshakeMessageBytes): this direction's handshake is not read further", frame: 7, oversized: {type: 11, length: 4096, limit: 1000}},
    ])
  })

  it('a message announced at the limit but cut short holds only the bytes that came, and one that arrives whole is intact', () => {
    const r = reader()
    r.h.push(Uint8Array.of(11, 0x10, 0x00, 0x00, 1, 2, 3), ref(1))
    expect(r.h.pendingBytes).toBe(7)
    // A 100,000-byte message in 1,000-byte pieces (the buffer grows past its first 16 KiB).
    const body = Uint8Array.from({length: 100_000}, (_, i) => (i * 7) & 0xff)
    const whole = Uint8Array.of(11, 0x01, 0x86, 0xa0, ...body)
    const w = reader()
    for (let at = 0; at < whole.length; at += 1000) w.h.push(whole.subarray(at, at + 1000), ref(at))
    expect(w.seen).toHaveLength(1)
    expect(w.seen[0]!.hex).toBe(Buffer.from(body).toString('hex'))
  })

  it('emits a zero-length message (ServerHelloDone, RFC 5246 §7.4.5) split anywhere', () => {
    const bytes = Uint8Array.of(14, 0, 0, 0)
    for (let i = 1; i < 4; i++) {
      const r = reader()
      r.h.push(bytes.subarray(0, i), ref(1))
      r.h.push(bytes.subarray(i), ref(2))
      expect(r.seen).toEqual([{type: 14, hex: '', frame: 2}])
    }
  })
})
