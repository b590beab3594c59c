/**
 * HttpUpgradeReader, WebSocketReader and WebSocketConnectionReader on the real WebSocket
 * connections of fixtures/ws (test/protocols/websocket/streams.json: each direction's TCP payload segments
 * as captured), mutated, and on the RFC 6455 §5.7 example frames: splitting the segments anywhere
 * further yields the same facts, frames and issues; nothing throws, on mutated streams or on
 * arbitrary bytes (up to 1 MiB) either; every input finishes within the per-input time bound.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {HttpUpgradeReader} from '../../src/protocols/http/upgrade.js'
import {WebSocketConnectionReader} from '../../src/protocols/websocket/connection.js'
import {WebSocketReader, type WebSocketFrame} from '../../src/protocols/websocket/frames.js'
import type {Direction, FrameRef, StreamHandler} from '../../src/stream/types.js'
import {STREAMS, chunks, type Chunk} from '../protocols/websocket/streams.js'
import {applyEdits, editArb, params, piecesOf, splitsArb, timed} from './support.js'

const hex = (s: string): Uint8Array => Buffer.from(s.replace(/\s+/g, ''), 'hex')

/** RFC 6455 §5.7 examples, in the direction each is sent (a client masks, a server does not). */
const RFC_FRAMES: Chunk[] = [
  // A single-frame unmasked text message ("Hello"), from the server.
  {direction: 's2c', frame: 1, ts: 1, bytes: hex('81 05 48 65 6c 6c 6f')},
  // A single-frame masked text message ("Hello"), from the client.
  {direction: 'c2s', frame: 2, ts: 2, bytes: hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')},
  // A fragmented unmasked text message: "Hel", then "lo".
  {direction: 's2c', frame: 3, ts: 3, bytes: hex('01 03 48 65 6c')},
  {direction: 's2c', frame: 4, ts: 4, bytes: hex('80 02 6c 6f')},
  // Unmasked Ping ("Hello"), and the masked Pong answering it.
  {direction: 's2c', frame: 5, ts: 5, bytes: hex('89 05 48 65 6c 6c 6f')},
  {direction: 'c2s', frame: 6, ts: 6, bytes: hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58')},
  // 256 bytes binary message in a single unmasked frame (16-bit length).
  {direction: 's2c', frame: 7, ts: 7, bytes: Buffer.concat([hex('82 7e 01 00'), Buffer.alloc(256, 0xa5)])},
  // 64 KiB binary message in a single unmasked frame (64-bit length).
  {direction: 's2c', frame: 8, ts: 8, bytes: Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), Buffer.alloc(65536, 0x5a)])},
]

/** Each real connection, and its WebSocket frames alone (the segments after both handshake heads). */
const CONNECTIONS: Array<{name: string; chunks: Chunk[]}> = STREAMS.map((s) => ({name: s.capture, chunks: chunks(s)}))

/** The frames of a connection: each direction's bytes after its header block's empty line. */
function framesOnly(list: Chunk[]): Chunk[] {
  const seen: Record<Direction, boolean> = {c2s: false, s2c: false}
  const out: Chunk[] = []
  for (const c of list) {
    if (seen[c.direction]) {
      out.push(c)
      continue
    }
    const end = Buffer.from(c.bytes).indexOf('\r\n\r\n')
    if (end < 0) continue
    seen[c.direction] = true
    if (end + 4 < c.bytes.length) out.push({...c, bytes: c.bytes.subarray(end + 4)})
  }
  return out
}

const FRAME_STREAMS: Array<{name: string; chunks: Chunk[]}> = [
  {name: 'RFC 6455 §5.7', chunks: RFC_FRAMES},
  ...CONNECTIONS.map((c) => ({name: `${c.name} frames`, chunks: framesOnly(c.chunks)})),
]

/** What a reader makes of a stream: its facts and every frame, as one string. */
type Run = (pieces: Array<{direction: Direction; bytes: Uint8Array; ref: FrameRef}>, end: boolean) => string

/** Feeds pieces, each copied into a scratch buffer that is overwritten after the call (bytes are valid only during it). */
function feedPieces(handler: StreamHandler, pieces: Array<{direction: Direction; bytes: Uint8Array; ref: FrameRef}>, end: boolean): void {
  for (const p of pieces) {
    const scratch = Uint8Array.from(p.bytes)
    handler.data(p.direction, scratch, p.ref)
    scratch.fill(0xee)
  }
  if (end) handler.end?.('both', pieces.at(-1)?.ref ?? {frame: 0, ts: 0})
}

function frameLog(out: string[]): (direction: Direction, f: WebSocketFrame) => void {
  return (direction, f) => out.push(`${direction} ${JSON.stringify({...f, payload: Buffer.from(f.payload).toString('hex')})}`)
}

const runFrames: Run = (pieces, end) => {
  const frames: string[] = []
  const reader = new WebSocketReader({onFrame: frameLog(frames), maxIssuesPerCode: 1000})
  feedPieces(reader, pieces, end)
  return JSON.stringify({facts: reader.facts, frames})
}

function runConnection(options: {maxHeaderBytes?: number; maxEarlyBytes?: number}): Run {
  return (pieces, end) => {
    const frames: string[] = []
    const reader = new WebSocketConnectionReader({http: options, websocket: {onFrame: frameLog(frames), maxIssuesPerCode: 1000}})
    feedPieces(reader, pieces, end)
    return JSON.stringify({facts: reader.facts, frames})
  }
}

function runUpgrade(options: {maxHeaderBytes?: number; maxEarlyBytes?: number}): Run {
  return (pieces, end) => {
    // What the reader hands on after the 101, with the frame it came in: must not depend on splits either.
    const handedOn: Record<Direction, string[]> = {c2s: [], s2c: []}
    const next: StreamHandler = {data: (d, b, ref) => handedOn[d].push(`${ref.frame}:${Buffer.from(b).toString('hex')}`)}
    const reader = new HttpUpgradeReader({...options, onUpgrade: () => next})
    feedPieces(reader, pieces, end)
    // Consecutive pieces of one frame join: the reader may hand one chunk on in parts.
    const joinedByFrame = (list: string[]): string[] =>
      list.reduce<string[]>((acc, item) => {
        const [frame, data] = item.split(':') as [string, string]
        const last = acc.at(-1)
        if (last?.startsWith(`${frame}:`)) acc[acc.length - 1] = last + data
        else acc.push(item)
        return acc
      }, [])
    return JSON.stringify({facts: reader.facts, c2s: joinedByFrame(handedOn.c2s), s2c: joinedByFrame(handedOn.s2c)})
  }
}

/** A stream's chunks, each cut at the given fractions (the capture's own order and refs kept). */
function cut(list: Chunk[], cuts: number[][]): Array<{direction: Direction; bytes: Uint8Array; ref: FrameRef}> {
  return list.flatMap((c, i) => piecesOf(c.bytes, cuts[i] ?? []).map((bytes) => ({direction: c.direction, bytes, ref: {frame: c.frame, ts: c.ts}})))
}

/** A stream with up to `maxEdits` edits in up to three of its chunks. */
function mutatedStreamArb(streams: Array<{name: string; chunks: Chunk[]}>, maxEdits = 4): fc.Arbitrary<Chunk[]> {
  return fc
    .tuple(fc.integer({min: 0, max: streams.length - 1}), fc.array(fc.tuple(fc.nat(), fc.array(editArb, {minLength: 1, maxLength: maxEdits})), {maxLength: 3}))
    .map(([i, edits]) => {
      const list = streams[i]!.chunks.map((c) => ({...c}))
      for (const [at, e] of edits) {
        const c = list[at % list.length]!
        c.bytes = applyEdits(c.bytes, e)
      }
      return list
    })
}

/**
 * The real connections regrouped as a client that does not wait for the 101 (RFC 6455 §4.1 says
 * it must): all its bytes in one chunk before the server's, which the reader keeps as early data.
 */
const PIPELINED: Array<{name: string; chunks: Chunk[]}> = CONNECTIONS.map((c) => ({
  name: `${c.name} pipelined`,
  chunks: (['c2s', 's2c'] as const).map((direction, i) => ({direction, frame: i + 1, ts: i, bytes: Buffer.concat(c.chunks.filter((x) => x.direction === direction).map((x) => x.bytes))})),
}))

/**
 * A real connection whose first chunk in one direction has edits in its first 32 bytes: the start
 * line, where a stream is told HTTP or not.
 */
function startLineEditsArb(streams: Array<{name: string; chunks: Chunk[]}>): fc.Arbitrary<Chunk[]> {
  return fc
    .tuple(fc.integer({min: 0, max: streams.length - 1}), fc.constantFrom<Direction>('c2s', 's2c'), fc.array(editArb, {minLength: 1, maxLength: 4}))
    .map(([i, direction, edits]) => {
      const list = streams[i]!.chunks.map((c) => ({...c}))
      const first = list.find((c) => c.direction === direction)!
      first.bytes = applyEdits(first.bytes, edits.map((e) => ({...e, at: (e.at * Math.min(32, first.bytes.length)) / first.bytes.length})))
      return list
    })
}

/** Split points for every chunk of a stream. */
const cutsArb = fc.array(splitsArb(3), {maxLength: 24})

/**
 * Split points as above plus, in every chunk holding a header block's end, one within a few bytes
 * of it, where the reader changes state (uniform cuts rarely land in so small a window).
 */
function cutsNearHeadArb(list: Chunk[]): fc.Arbitrary<number[][]> {
  return fc.tuple(cutsArb, fc.integer({min: -4, max: 140})).map(([cuts, delta]) =>
    list.map((c, i) => {
      const end = Buffer.from(c.bytes).indexOf('\r\n\r\n')
      const at = end + 4 + delta
      // piecesOf cuts at floor(fraction × length): the middle of byte `at` gives exactly `at`.
      const near = end < 0 || at <= 0 || at >= c.bytes.length ? [] : [(at + 0.5) / c.bytes.length]
      return [...(cuts[i] ?? []), ...near]
    }),
  )
}

/** Header-block limits: the defaults, and small ones that the real handshakes cross. */
const limitsArb = fc.record({maxHeaderBytes: fc.constantFrom(undefined, 1, 64, 200), maxEarlyBytes: fc.constantFrom(undefined, 1, 10, 100)}, {requiredKeys: []})

/** WebSocket-frame-shaped bytes: random headers of every length form, masks and short payloads. */
const frameBytesArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.record({
      b0: fc.integer({min: 0, max: 255}),
      masked: fc.boolean(),
      length: fc.oneof(fc.integer({min: 0, max: 125}), fc.integer({min: 0, max: 0xffff}), fc.constantFrom(0, 126, 0x10000, 2 ** 53, 2 ** 63)),
      form: fc.constantFrom(7, 16, 64),
      key: fc.uint8Array({minLength: 4, maxLength: 4}),
      payload: fc.uint8Array({maxLength: 200}),
    }),
    {maxLength: 20},
  )
  .map((frames) =>
    Buffer.concat(
      frames.map((f) => {
        const head = Buffer.alloc(14)
        head[0] = f.b0
        let at = 2
        const len = Math.min(f.length, f.form === 7 ? 125 : f.form === 16 ? 0xffff : f.length)
        if (f.form === 7 && len <= 125) head[1] = len
        else if (f.form === 16) {
          head[1] = 126
          head.writeUInt16BE(len, 2)
          at = 4
        } else {
          head[1] = 127
          head.writeBigUInt64BE(BigInt(len), 2)
          at = 10
        }
        if (f.masked) {
          head[1]! |= 0x80
          head.set(f.key, at)
          at += 4
        }
        return Buffer.concat([head.subarray(0, at), f.payload])
      }),
    ),
  )

/** Arbitrary bytes, mostly large: up to 1 MiB per direction. */
const bigBytesArb = fc.uint8Array({maxLength: 1 << 20, size: 'max'})

describe('splitting the input anywhere yields the same facts', () => {
  it('WebSocketReader on the RFC 6455 §5.7 frames and the real connections’ frames', () => {
    expect(FRAME_STREAMS.every((s) => s.chunks.length > 0)).toBe(true)
    fc.assert(
      fc.property(fc.integer({min: 0, max: FRAME_STREAMS.length - 1}), cutsArb, fc.boolean(), (i, cuts, end) => {
        const list = FRAME_STREAMS[i]!.chunks
        expect(runFrames(cut(list, cuts), end)).toBe(timed('WebSocketReader', () => runFrames(cut(list, []), end)))
      }),
      params(300),
    )
  })

  it('WebSocketReader on mutated frames', () => {
    fc.assert(
      fc.property(mutatedStreamArb(FRAME_STREAMS), cutsArb, fc.boolean(), (list, cuts, end) => {
        expect(runFrames(cut(list, cuts), end)).toBe(timed('WebSocketReader', () => runFrames(cut(list, []), end)))
      }),
      params(500),
    )
  })

  it('WebSocketReader on frame-shaped bytes, one direction or both', () => {
    fc.assert(
      fc.property(frameBytesArb, frameBytesArb, splitsArb(8), splitsArb(8), (c2s, s2c, cutC2s, cutS2c) => {
        const list: Chunk[] = [
          {direction: 'c2s', frame: 1, ts: 1, bytes: c2s},
          {direction: 's2c', frame: 2, ts: 2, bytes: s2c},
        ]
        expect(runFrames(cut(list, [cutC2s, cutS2c]), true)).toBe(timed('WebSocketReader', () => runFrames(cut(list, []), true)))
      }),
      params(500),
    )
  })

  it('HttpUpgradeReader on the real connections, whole and mutated, with default and small limits', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...[...CONNECTIONS, ...PIPELINED].map((c) => c.chunks)),
          mutatedStreamArb(CONNECTIONS),
          mutatedStreamArb(PIPELINED),
          startLineEditsArb(CONNECTIONS),
        ).chain((list) => fc.tuple(fc.constant(list), cutsNearHeadArb(list))),
        limitsArb,
        fc.boolean(),
        ([list, cuts], limits, end) => {
          const run = runUpgrade(limits)
          expect(run(cut(list, cuts), end)).toBe(timed('HttpUpgradeReader', () => run(cut(list, []), end)))
        },
      ),
      params(1000),
    )
  })

  it('WebSocketConnectionReader on the real connections, whole and mutated', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...[...CONNECTIONS, ...PIPELINED].map((c) => c.chunks)), mutatedStreamArb(CONNECTIONS), mutatedStreamArb(PIPELINED)).chain((list) => fc.tuple(fc.constant(list), cutsNearHeadArb(list))),
        limitsArb,
        fc.boolean(),
        ([list, cuts], limits, end) => {
          const run = runConnection(limits)
          expect(run(cut(list, cuts), end)).toBe(timed('WebSocketConnectionReader', () => run(cut(list, []), end)))
        },
      ),
      params(500),
    )
  })

  it('the real connections read as one upgrade with frames both ways (the property above runs on real data)', () => {
    for (const c of CONNECTIONS) {
      const facts = JSON.parse(runConnection({})(cut(c.chunks, []), true)) as {facts: {http: {upgraded: boolean}; ws?: {c2s: {frames: number}; s2c: {frames: number}}}}
      expect(facts.facts.http.upgraded).toBe(true)
      expect(facts.facts.ws!.c2s.frames).toBeGreaterThan(0)
      expect(facts.facts.ws!.s2c.frames).toBeGreaterThan(0)
    }
  })
})

describe('nothing throws, in bounded time, on arbitrary bytes', () => {
  function everyReader(c2s: Uint8Array, s2c: Uint8Array): void {
    const ref: FrameRef = {frame: 1, ts: 0}
    for (const make of [() => new WebSocketReader(), () => new HttpUpgradeReader({onUpgrade: () => new WebSocketReader()}), () => new WebSocketConnectionReader()]) {
      const reader: StreamHandler = make()
      timed(reader.constructor.name, () => {
        reader.data('c2s', c2s, ref)
        reader.data('s2c', s2c, ref)
        reader.gap?.('c2s', 10, ref)
        reader.data('c2s', c2s, ref)
        reader.end?.('both', ref)
      })
    }
  }

  it('up to 1 MiB each way', () => {
    fc.assert(
      fc.property(bigBytesArb, bigBytesArb, (c2s, s2c) => everyReader(c2s, s2c)),
      params(20),
    )
  })

  it('a real handshake followed by arbitrary bytes (so the frame reader sees them)', () => {
    const [request, response] = CONNECTIONS[1]!.chunks.filter((c) => Buffer.from(c.bytes).includes('\r\n\r\n'))
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 1 << 18}), fc.uint8Array({maxLength: 1 << 18}), (c2s, s2c) => {
        const ref: FrameRef = {frame: 1, ts: 0}
        const reader = new WebSocketConnectionReader()
        timed('WebSocketConnectionReader', () => {
          reader.data('c2s', request!.bytes, ref)
          reader.data('s2c', response!.bytes, ref)
          reader.data('c2s', c2s, ref)
          reader.data('s2c', s2c, ref)
          reader.end('both', ref)
        })
        expect(reader.websocket).toBeDefined()
      }),
      params(200),
    )
  })
})
