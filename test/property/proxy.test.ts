/**
 * ProxyPreambleReader on the real proxy connections of the corpus and the http-connect-407
 * fixture (test/protocols/proxy/streams.json: HTTP CONNECT, SOCKS4, SOCKS4a, SOCKS5 as captured), mutated,
 * and on arbitrary bytes up to 1 MiB: it never throws, finishes each input within the time
 * bound, and splitting the chunks anywhere further yields the same facts, issues and tunnel
 * bytes (with the frames they came in), under the default and small limits.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {ProxyPreambleReader, type ProxyPreambleReaderOptions} from '../../src/protocols/proxy/preamble.js'
import type {Direction, FrameRef, StreamHandler} from '../../src/stream/types.js'
import {STREAMS} from '../protocols/proxy/streams.js'
import {applyEdits, editArb, params, piecesOf, splitsArb, timed} from './support.js'

interface Chunk {
  direction: Direction
  ref: FrameRef
  bytes: Uint8Array
}

/** Each real connection's chunks in capture order; the chunk index stands for its frame. */
const CONNECTIONS: Chunk[][] = STREAMS.map((entry) => entry.chunks.map(([direction, hex], i) => ({direction, ref: {frame: i + 1, ts: i}, bytes: Buffer.from(hex, 'hex')})))

/** Everything the inner handler is given, consecutive data of one frame joined (a chunk may come in parts). */
class Recorder implements StreamHandler {
  readonly events: string[] = []
  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    const key = `data ${direction} ${ref.frame} `
    const last = this.events.at(-1)
    const hex = Buffer.from(bytes).toString('hex')
    if (last?.startsWith(key)) this.events[this.events.length - 1] = last + hex
    else this.events.push(key + hex)
  }
  gap(direction: Direction, size: number, ref: FrameRef): void {
    this.events.push(`gap ${direction} ${size} ${ref.frame}`)
  }
  end(direction: Direction | 'both', ref: FrameRef): void {
    this.events.push(`end ${direction} ${ref.frame}`)
  }
}

type Step = {kind: 'data'; chunk: Chunk} | {kind: 'gap'; direction: Direction; size: number; ref: FrameRef} | {kind: 'end'; direction: Direction | 'both'; ref: FrameRef}

/** Feeds steps, each chunk through a scratch copy overwritten after the call; returns facts, issues and what the inner handler got. */
function run(steps: Step[], options: ProxyPreambleReaderOptions): string {
  const inner = new Recorder()
  const reader = new ProxyPreambleReader(inner, options)
  for (const step of steps) {
    if (step.kind === 'data') {
      const scratch = Uint8Array.from(step.chunk.bytes)
      reader.data(step.chunk.direction, scratch, step.chunk.ref)
      scratch.fill(0xee)
    } else if (step.kind === 'gap') {
      reader.gap?.(step.direction, step.size, step.ref)
    } else {
      reader.end?.(step.direction, step.ref)
    }
  }
  return JSON.stringify({facts: reader.facts() ?? null, issues: reader.issues, inner: inner.events})
}

/** Steps from chunks, each cut at the given fractions, then optionally a gap and the end. */
function stepsOf(list: Chunk[], cuts: number[][], tail: Step[]): Step[] {
  const steps: Step[] = list.flatMap((c, i) => piecesOf(c.bytes, cuts[i] ?? []).map((bytes) => ({kind: 'data' as const, chunk: {...c, bytes}})))
  return [...steps, ...tail]
}

const lastRef = (list: Chunk[]): FrameRef => list.at(-1)?.ref ?? {frame: 0, ts: 0}

const tailArb = (list: Chunk[]): fc.Arbitrary<Step[]> =>
  fc.constantFrom<Step[]>(
    [],
    [{kind: 'end', direction: 'both', ref: lastRef(list)}],
    [{kind: 'end', direction: 'c2s', ref: lastRef(list)}],
    [{kind: 'gap', direction: 's2c', size: 100, ref: lastRef(list)}, {kind: 'end', direction: 'both', ref: lastRef(list)}],
  )

/** A real connection with edits in up to three chunks, and a chunk dropped or repeated at times. */
const mutatedConnectionArb: fc.Arbitrary<Chunk[]> = fc
  .tuple(
    fc.integer({min: 0, max: CONNECTIONS.length - 1}),
    fc.array(fc.tuple(fc.nat(), fc.array(editArb, {minLength: 1, maxLength: 4})), {maxLength: 3}),
    fc.option(fc.tuple(fc.boolean(), fc.nat())),
  )
  .map(([i, edits, reshuffle]) => {
    let list = CONNECTIONS[i]!.map((c) => ({...c}))
    for (const [at, e] of edits) {
      const c = list[at % list.length]!
      c.bytes = applyEdits(c.bytes, e)
    }
    if (reshuffle) {
      const [drop, at] = reshuffle
      const k = at % list.length
      list = drop ? [...list.slice(0, k), ...list.slice(k + 1)] : [...list.slice(0, k + 1), list[k]!, ...list.slice(k + 1)]
    }
    return list
  })

/**
 * The real connections regrouped as a client that does not wait: all its bytes in one chunk, then
 * all the server's (RFC 9110 §9.3.6 lets a CONNECT client pipeline; SOCKS clients do it too).
 */
const PIPELINED: Chunk[][] = CONNECTIONS.map((list) =>
  (['c2s', 's2c'] as const).map((direction, i) => ({direction, ref: {frame: i + 1, ts: i}, bytes: Buffer.concat(list.filter((c) => c.direction === direction).map((c) => c.bytes))})),
)

const connectionArb = fc.oneof(fc.constantFrom(...CONNECTIONS), fc.constantFrom(...PIPELINED), mutatedConnectionArb)

/** The defaults; small limits the real preambles cross; a capture that began mid-connection. */
const optionsArb: fc.Arbitrary<ProxyPreambleReaderOptions> = fc.record(
  {
    maxHeadBytes: fc.constantFrom(undefined, 8, 40, 100, 300),
    maxHeldBytes: fc.constantFrom(undefined, 16, 100, 1000),
    fromOpening: fc.constantFrom(undefined, () => false),
  },
  {requiredKeys: []},
)

describe('ProxyPreambleReader: splitting the input anywhere yields the same facts and tunnel bytes', () => {
  it('on the real proxy connections, whole and mutated, under default and small limits', () => {
    expect(CONNECTIONS.length).toBe(7)
    fc.assert(
      fc.property(
        connectionArb.chain((list) => fc.tuple(fc.constant(list), tailArb(list))),
        fc.array(splitsArb(3), {maxLength: 20}),
        optionsArb,
        ([list, tail], cuts, options) => {
          const whole = timed('ProxyPreambleReader', () => run(stepsOf(list, [], tail), options))
          expect(run(stepsOf(list, cuts, tail), options)).toBe(whole)
        },
      ),
      params(1000),
    )
  })

  it('the real connections open or refuse a tunnel without issues (the property above runs on real preambles)', () => {
    for (const list of CONNECTIONS) {
      const result = JSON.parse(run(stepsOf(list, [], []), {})) as {facts: {type: string} | null; issues: unknown[]}
      expect(result.facts?.type).toMatch(/^(http-connect|socks4|socks4a|socks5)$/)
      expect(result.issues).toEqual([])
    }
  })
})

describe('ProxyPreambleReader never throws, in bounded time', () => {
  const ref: FrameRef = {frame: 1, ts: 0}

  /** Arbitrary bytes after each real preamble opening byte (SOCKS5, SOCKS4, "CONNECT "), and alone. */
  const prefixArb = fc.constantFrom(new Uint8Array(0), Uint8Array.of(5), Uint8Array.of(4), Buffer.from('CONNECT '), Uint8Array.of(5, 1, 0))

  it('on arbitrary bytes up to 1 MiB each way, after each preamble opening', () => {
    fc.assert(
      fc.property(prefixArb, fc.uint8Array({maxLength: 1 << 20, size: 'max'}), fc.uint8Array({maxLength: 1 << 20, size: 'max'}), (prefix, c2s, s2c) => {
        timed('ProxyPreambleReader', () => {
          const reader = new ProxyPreambleReader(new Recorder())
          reader.data('c2s', prefix, ref)
          reader.data('c2s', c2s, ref)
          reader.data('s2c', s2c, ref)
          reader.gap?.('c2s', 5, ref)
          reader.end?.('both', ref)
        })
      }),
      params(20),
    )
  })

  it('on many small arbitrary chunks both ways, with small limits', () => {
    fc.assert(
      fc.property(
        prefixArb,
        fc.array(fc.tuple(fc.constantFrom<Direction>('c2s', 's2c'), fc.uint8Array({maxLength: 64})), {maxLength: 300}),
        optionsArb,
        (prefix, chunks, options) => {
          timed('ProxyPreambleReader', () => {
            const reader = new ProxyPreambleReader(new Recorder(), options)
            reader.data('c2s', prefix, ref)
            chunks.forEach(([direction, bytes], i) => reader.data(direction, bytes, {frame: i + 2, ts: i}))
            reader.end?.('both', ref)
          })
        },
      ),
      params(500),
    )
  })
})
