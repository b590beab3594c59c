import {describe, expect, it} from 'vitest'
import {WebSocketReader, validCloseCode, type WebSocketFrame, type WebSocketReaderOptions} from '../../../src/protocols/websocket/frames.js'
import type {Direction, FrameRef} from '../../../src/stream/types.js'

/** RFC 6455 §5.7 examples. */
const hex = (s: string): Uint8Array => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const RFC = {
  /** A single-frame unmasked text message "Hello". */
  unmaskedHello: hex('81 05 48 65 6c 6c 6f'),
  /** A single-frame masked text message "Hello". */
  maskedHello: hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
  /** A fragmented unmasked text message: "Hel" then "lo". */
  fragment1: hex('01 03 48 65 6c'),
  fragment2: hex('80 02 6c 6f'),
  /** Unmasked Ping request and masked Ping response (a pong), both with body "Hello". */
  unmaskedPing: hex('89 05 48 65 6c 6c 6f'),
  maskedPong: hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'),
  /** 256 bytes binary message in a single unmasked frame (the RFC leaves the data open: zeros here). */
  binary256: Buffer.concat([hex('82 7e 01 00'), Buffer.alloc(256)]),
  /** 64 KiB binary message in a single unmasked frame. */
  binary64k: Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), Buffer.alloc(65536)]),
}

interface Run {
  frames: Array<Omit<WebSocketFrame, 'payload'> & {direction: Direction; payload: string}>
  reader: WebSocketReader
}

/** Feeds [direction, bytes, ref] steps, each cut at the offsets `cuts(step)` gives. */
function run(steps: Array<[Direction, Uint8Array, FrameRef?]>, options: WebSocketReaderOptions = {}, cuts: (step: number, length: number) => number[] = () => []): Run {
  const frames: Run['frames'] = []
  const reader = new WebSocketReader({
    ...options,
    onFrame: (direction, f) => frames.push({...f, direction, payload: Buffer.from(f.payload).toString('hex')}),
  })
  steps.forEach(([direction, bytes, ref = {frame: 1, ts: 1}], step) => {
    let at = 0
    for (const cut of [...cuts(step, bytes.length), bytes.length]) {
      reader.data(direction, bytes.subarray(at, cut), ref)
      at = cut
    }
  })
  return {frames, reader}
}

const codes = (r: Run): string[] => r.reader.facts.issues.map((i) => i.code)

describe('WebSocketReader on the RFC 6455 §5.7 examples', () => {
  it('reads a single-frame unmasked text message from the server', () => {
    const r = run([['s2c', RFC.unmaskedHello]])
    expect(r.frames).toEqual([expect.objectContaining({direction: 's2c', fin: true, rsv: 0, opcode: 1, masked: false, payloadLength: 5, headerLength: 2, payload: Buffer.from('Hello').toString('hex')})])
    expect(r.reader.facts.s2c.messages).toEqual({text: 1, binary: 0})
    expect(r.reader.facts.s2c.byOpcode.text).toEqual({frames: 1, bytes: 5})
    expect(codes(r)).toEqual([])
  })

  it('unmasks the kept payload of a masked text frame from the client', () => {
    const r = run([['c2s', RFC.maskedHello]])
    expect(r.frames).toEqual([expect.objectContaining({masked: true, payloadLength: 5, headerLength: 6, payload: Buffer.from('Hello').toString('hex')})])
    expect(r.reader.facts.c2s).toMatchObject({frames: 1, payloadBytes: 5, headerBytes: 6, messages: {text: 1, binary: 0}})
    expect(codes(r)).toEqual([])
  })

  it('counts a fragmented message once, at its final continuation', () => {
    const r = run([['s2c', RFC.fragment1], ['s2c', RFC.fragment2]])
    expect(r.frames.map((f) => [f.fin, f.opcode, f.payloadLength])).toEqual([[false, 1, 3], [true, 0, 2]])
    expect(r.reader.facts.s2c.messages).toEqual({text: 1, binary: 0})
    expect(codes(r)).toEqual([])
  })

  it('matches the masked pong to the unmasked ping', () => {
    const r = run([['s2c', RFC.unmaskedPing, {frame: 10, ts: 100}], ['c2s', RFC.maskedPong, {frame: 11, ts: 100.0125}]])
    expect(r.reader.facts.pings).toEqual([
      {from: 'server', frame: 10, ts: 100, payloadHex: Buffer.from('Hello').toString('hex'), pong: {frame: 11, ts: 100.0125, rttMs: 12.5}},
    ])
    expect(r.reader.facts.pingCount).toBe(1)
    expect(r.reader.facts.c2s.unsolicitedPongs).toBe(0)
    expect(codes(r)).toEqual([])
  })

  it('reads the 16-bit length of the 256-byte binary frame and the 64-bit length of the 64 KiB one', () => {
    const r = run([['s2c', RFC.binary256], ['s2c', RFC.binary64k]])
    expect(r.frames.map((f) => [f.opcode, f.payloadLength, f.headerLength, f.payload.length / 2])).toEqual([[2, 256, 4, 125], [2, 65536, 10, 125]])
    expect(r.reader.facts.s2c).toMatchObject({payloadBytes: 256 + 65536, headerBytes: 14, messages: {text: 0, binary: 2}})
    expect(codes(r)).toEqual([])
  })

  it('names the segment where a frame started and the one that completed it', () => {
    const r = run([['s2c', RFC.binary256.subarray(0, 3), {frame: 4, ts: 4}], ['s2c', RFC.binary256.subarray(3, 200), {frame: 5, ts: 5}], ['s2c', RFC.binary256.subarray(200), {frame: 6, ts: 6}]])
    expect(r.frames).toEqual([expect.objectContaining({startFrame: 4, frame: 6, ts: 6, payloadLength: 256})])
  })

  it('gives identical frames and facts split at every byte boundary and one byte at a time', () => {
    const stream = Buffer.concat([RFC.unmaskedHello, RFC.fragment1, RFC.fragment2, RFC.unmaskedPing, RFC.binary256, RFC.binary64k])
    const client = Buffer.concat([RFC.maskedHello, RFC.maskedPong])
    // Compared as JSON: 66 000 runs through expect().toEqual would take most of a minute.
    const json = (r: Run) => JSON.stringify({frames: r.frames, facts: r.reader.facts})
    const whole = json(run([['s2c', stream], ['c2s', client]]))
    expect(whole).toContain('"payloadLength":65536')
    const differing: number[] = []
    for (let cut = 1; cut < stream.length; cut++) {
      // Every cut of the server stream, and the matching cut (mod its length) of the client's.
      const split = json(run([['s2c', stream], ['c2s', client]], {}, (step) => (step === 0 ? [cut] : [cut % client.length || 1])))
      if (split !== whole) differing.push(cut)
    }
    expect(differing).toEqual([])
    const bytewise = (_step: number, length: number) => Array.from({length: length - 1}, (_, k) => k + 1)
    expect(json(run([['s2c', stream], ['c2s', client]], {}, bytewise))).toBe(whole)
  })
})

describe('WebSocketReader protocol checks (RFC 6455 §5 vectors altered as each test says)', () => {
  it('flags an unmasked client frame and a masked server frame (§5.1)', () => {
    const r = run([['c2s', RFC.unmaskedHello], ['s2c', RFC.maskedHello]])
    expect(codes(r)).toEqual(['ws.client-frame-unmasked', 'ws.server-frame-masked'])
    // The framing is still followed: both frames counted.
    expect(r.frames).toHaveLength(2)
  })

  it('flags reserved opcodes (§5.2) and keeps reading', () => {
    const reserved = Uint8Array.from(RFC.unmaskedHello)
    reserved[0] = 0x83 // FIN + opcode 3
    const r = run([['s2c', reserved], ['s2c', RFC.unmaskedHello]])
    expect(codes(r)).toEqual(['ws.reserved-opcode'])
    expect(r.reader.facts.s2c.byOpcode.reserved).toEqual({frames: 1, bytes: 5})
    expect(r.reader.facts.s2c.messages.text).toBe(1)
  })

  it('allows RSV1 only with permessage-deflate, and only on a message\'s first frame (RFC 7692 §6.1)', () => {
    const rsv1 = (frame: Uint8Array) => Uint8Array.from(frame, (b, i) => (i === 0 ? b | 0x40 : b))
    expect(codes(run([['s2c', rsv1(RFC.unmaskedHello)]]))).toEqual(['ws.rsv-bits'])
    const deflate = run([['s2c', rsv1(RFC.fragment1)], ['s2c', RFC.fragment2]], {permessageDeflate: true})
    expect(codes(deflate)).toEqual([])
    expect(deflate.reader.facts.s2c.compressedMessages).toBe(1)
    expect(codes(run([['s2c', RFC.fragment1], ['s2c', rsv1(RFC.fragment2)]], {permessageDeflate: true}))).toEqual(['ws.rsv1-misplaced'])
    expect(codes(run([['s2c', rsv1(RFC.unmaskedPing)]], {permessageDeflate: true}))).toEqual(['ws.rsv1-misplaced'])
    const rsv2 = Uint8Array.from(RFC.unmaskedHello, (b, i) => (i === 0 ? b | 0x20 : b))
    expect(codes(run([['s2c', rsv2]], {permessageDeflate: true}))).toEqual(['ws.rsv-bits'])
  })

  it('flags non-minimal lengths and a 64-bit length with its MSB set (§5.2)', () => {
    const hello16 = hex('81 7e 00 05 48 65 6c 6c 6f')
    const hello64 = hex('81 7f 00 00 00 00 00 00 00 05 48 65 6c 6c 6f')
    const r = run([['s2c', hello16], ['s2c', hello64]])
    expect(codes(r)).toEqual(['ws.length-not-minimal', 'ws.length-not-minimal'])
    expect(r.reader.facts.s2c.messages.text).toBe(2)
    const msb = run([['s2c', hex('82 7f 80 00 00 00 00 00 00 00')], ['s2c', RFC.unmaskedHello]])
    expect(codes(msb)).toEqual(['ws.length-msb-set'])
    expect(msb.reader.facts.s2c.lostSync).toEqual({frame: 1, ts: 1})
    expect(msb.frames).toEqual([])
  })

  it('flags control frames over 125 bytes or fragmented (§5.5)', () => {
    const longPing = Buffer.concat([hex('89 7e 00 7e'), Buffer.alloc(126)])
    const fragmentedPing = Uint8Array.from(RFC.unmaskedPing, (b, i) => (i === 0 ? b & 0x7f : b))
    expect(codes(run([['s2c', longPing], ['s2c', fragmentedPing]]))).toEqual(['ws.control-too-long', 'ws.control-fragmented'])
  })

  it('flags a continuation without a start and a new message inside a fragmented one (§5.4)', () => {
    expect(codes(run([['s2c', RFC.fragment2]]))).toEqual(['ws.continuation-without-start'])
    const r = run([['s2c', RFC.fragment1], ['s2c', RFC.unmaskedHello], ['s2c', RFC.unmaskedPing]])
    // A control frame may come between fragments (§5.4); a data frame may not.
    expect(codes(r)).toEqual(['ws.interleaved-data-frame'])
  })

  it('reads close codes and reasons and flags the ones not allowed on the wire (§5.5.1, §7.4)', () => {
    const close = (body: string) => {
      const payload = hex(body)
      return Buffer.concat([Uint8Array.of(0x88, payload.length), payload])
    }
    const ok = run([['s2c', close('03e8')], ['c2s', Uint8Array.of(0x88, 0x80, 1, 2, 3, 4)]])
    expect(ok.reader.facts.close).toEqual({server: {from: 'server', frame: 1, ts: 1, code: 1000, reason: ''}, client: {from: 'client', frame: 1, ts: 1}})
    expect(ok.reader.facts).toMatchObject({closedBy: 'server', cleanClose: true})
    expect(codes(ok)).toEqual([])
    expect(codes(run([['s2c', close('03ed')]]))).toEqual(['ws.close-code-reserved']) // 1005
    expect(codes(run([['s2c', close('03ee')]]))).toEqual(['ws.close-code-reserved']) // 1006
    expect(codes(run([['s2c', close('03f7')]]))).toEqual(['ws.close-code-reserved']) // 1015
    expect(codes(run([['s2c', close('03e7')]]))).toEqual(['ws.close-code-invalid']) // 999
    expect(codes(run([['s2c', close('1388')]]))).toEqual(['ws.close-code-invalid']) // 5000
    expect(codes(run([['s2c', close('03')]]))).toEqual(['ws.close-malformed'])
    const badReason = run([['s2c', close('03f3 ff fe')]]) // 1011 + bytes that are never UTF-8
    expect(codes(badReason)).toEqual(['ws.close-reason-not-utf8'])
    expect(badReason.reader.facts.close.server!.code).toBe(1011)
    const after = run([['s2c', close('03e8')], ['s2c', RFC.unmaskedHello]])
    expect(codes(after)).toEqual(['ws.frame-after-close'])
  })

  it('knows which close codes are valid (§7.4.1, §7.4.2, IANA registry)', () => {
    const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
    const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]
    expect(valid.filter(validCloseCode)).toEqual(valid)
    expect(invalid.filter(validCloseCode)).toEqual([])
  })

  it('counts a pong that answers no ping as unsolicited (§5.5.3)', () => {
    const r = run([['c2s', RFC.maskedPong]])
    expect(r.reader.facts.c2s.unsolicitedPongs).toBe(1)
    expect(r.reader.facts.pings).toEqual([])
  })

  it('records each issue code a few times and counts them all', () => {
    const r = run(Array.from({length: 20}, () => ['c2s', RFC.unmaskedHello] as [Direction, Uint8Array]))
    expect(codes(r)).toEqual(Array(5).fill('ws.client-frame-unmasked'))
    expect(r.reader.facts.issueCounts).toEqual({'ws.client-frame-unmasked': 20})
  })

  it('reports a stream ending inside a frame', () => {
    const r = run([['s2c', RFC.binary256.subarray(0, 100)]])
    r.reader.end('both', {frame: 7, ts: 7})
    expect(r.reader.facts.s2c.truncated).toEqual({frame: 7, ts: 7})
    expect(r.reader.facts.c2s.truncated).toBeUndefined()
    expect(codes(r)).toEqual(['ws.truncated'])
  })
})
