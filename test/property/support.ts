/**
 * What the property tests share: one fixed fast-check seed (printed, overridable with FC_SEED to
 * replay a CI failure), real captures as the material mutations start from, and a mutation
 * arbitrary that fast-check can shrink to the fewest, smallest edits that still fail.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import fc from 'fast-check'
import {createCaptureParser} from '../../src/capture/parser.js'
import type {RawFrame} from '../../src/capture/types.js'
import {CORPUS_PCAPS, FIXTURES, JA4_ABSENT, ja4Corpus} from '../helpers/paths.js'
import {skippedBecause} from '../helpers/skip.js'

export const SEED = Number(process.env.FC_SEED ?? 20261122)
/**
 * Per-input deadline that only catches a hang or a runaway (quadratic or worse) reader: every
 * reader is linear, so an input takes microseconds to milliseconds, and a quadratic one on the
 * 1 MiB inputs would take minutes. Not a speed target (npm run bench measures speed): it holds
 * on a loaded machine.
 */
export const INPUT_HANG_DEADLINE_MS = 30_000

let printed = false
/** fast-check parameters for one property: the fixed seed, printed once per file. */
export function params<T>(numRuns: number): fc.Parameters<T> {
  if (!printed) {
    printed = true
    console.log(`fast-check seed ${SEED} (replay with FC_SEED=${SEED})`)
  }
  return {seed: SEED, numRuns, endOnFailure: false}
}

/** The corpus captures used as mutation seeds besides the fixtures, when the JA4 corpus is present. */
const CORPUS_SEEDS = ['tcpdump-geneve.pcap', 'gre-erspan-vxlan.pcap', 'ipv6.pcapng', 'tls12.pcap']

/** Real capture files (fixtures, and the public corpus when present) used as mutation seeds. */
export const CAPTURES: Record<string, Uint8Array> = {
  'tls13-lo.pcap': readFileSync(join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap')),
  'dumpcap.pcapng': readFileSync(join(FIXTURES, 'tcp', 'dumpcap-pcapng', 'dumpcap.pcapng')),
  'dsb capture.pcapng': readFileSync(join(FIXTURES, 'capture', 'dsb', 'capture.pcapng')),
  'nanosecond.pcap': readFileSync(join(FIXTURES, 'capture', 'nanosecond', 'capture.pcap')),
  'sll2.pcap': readFileSync(join(FIXTURES, 'dissect', 'loopback-http', 'sll2.pcap')),
  'tun-raw-ip.pcap': readFileSync(join(FIXTURES, 'dissect', 'tun-raw-ip', 'capture.pcap')),
  ...(ja4Corpus() ? Object.fromEntries(CORPUS_SEEDS.map((name) => [name, readFileSync(join(CORPUS_PCAPS, name))])) : {}),
}

/** Call where tests may be registered: without the corpus, one noted skip says its seeds are left out. */
export function noteAbsentCorpusSeeds(): void {
  if (!ja4Corpus()) skippedBecause(`mutations of the corpus seeds ${CORPUS_SEEDS.join(', ')}`, JA4_ABSENT)
}

/** One edit of a byte string; positions are fractions so they fit any length. */
export type Edit =
  | {kind: 'set'; at: number; value: number}
  | {kind: 'u16'; at: number; value: number}
  | {kind: 'u32'; at: number; value: number}
  | {kind: 'truncate'; at: number}
  | {kind: 'insert'; at: number; bytes: Uint8Array}
  | {kind: 'delete'; at: number; length: number}

const fraction = fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true})

export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({kind: fc.constant('set' as const), at: fraction, value: fc.integer({min: 0, max: 255})}),
  fc.record({kind: fc.constant('u16' as const), at: fraction, value: fc.oneof(fc.constantFrom(0, 1, 0x7fff, 0x8000, 0xffff), fc.integer({min: 0, max: 0xffff}))}),
  fc.record({kind: fc.constant('u32' as const), at: fraction, value: fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x40000), fc.nat())}),
  fc.record({kind: fc.constant('truncate' as const), at: fraction}),
  fc.record({kind: fc.constant('insert' as const), at: fraction, bytes: fc.uint8Array({minLength: 1, maxLength: 64})}),
  fc.record({kind: fc.constant('delete' as const), at: fraction, length: fc.integer({min: 1, max: 64})}),
)

/** Applies edits in order; big-endian and little-endian field writes alternate by position. */
export function applyEdits(input: Uint8Array, edits: Edit[]): Uint8Array {
  let out = new Uint8Array(input)
  for (const edit of edits) {
    const at = Math.floor(edit.at * out.length)
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
    switch (edit.kind) {
      case 'set':
        if (at < out.length) out[at] = edit.value
        break
      case 'u16':
        if (at + 2 <= out.length) view.setUint16(at, edit.value, at % 2 === 0)
        break
      case 'u32':
        if (at + 4 <= out.length) view.setUint32(at, edit.value, at % 2 === 0)
        break
      case 'truncate':
        out = out.slice(0, at)
        break
      case 'insert':
        out = Uint8Array.from([...out.subarray(0, at), ...edit.bytes, ...out.subarray(at)])
        break
      case 'delete':
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + edit.length)])
        break
    }
  }
  return out
}

/** A real byte string with up to `maxEdits` edits: [name, bytes]. */
export function mutatedArb(inputs: Record<string, Uint8Array>, maxEdits = 6): fc.Arbitrary<[string, Uint8Array]> {
  return fc
    .tuple(fc.constantFrom(...Object.keys(inputs)), fc.array(editArb, {maxLength: maxEdits}))
    .map(([name, edits]) => [name, applyEdits(inputs[name]!, edits)] as [string, Uint8Array])
}

/** Split points for an input of `length` bytes: sorted, distinct, inside it. */
export function splitsArb(maxSplits = 4): fc.Arbitrary<number[]> {
  return fc.array(fraction, {maxLength: maxSplits})
}

export function piecesOf(bytes: Uint8Array, fractions: number[]): Uint8Array[] {
  const cuts = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let from = 0
  for (const cut of cuts) {
    pieces.push(bytes.subarray(from, cut))
    from = cut
  }
  pieces.push(bytes.subarray(from))
  return pieces
}

/** Runs `fn`, failing when it runs past the hang deadline (INPUT_HANG_DEADLINE_MS). */
export function timed<T>(what: string, fn: () => T): T {
  const started = performance.now()
  const result = fn()
  const ms = performance.now() - started
  if (ms > INPUT_HANG_DEADLINE_MS) throw new Error(`${what} ran ${(ms / 1000).toFixed(0)} s: a hang or a runaway reader (deadline ${INPUT_HANG_DEADLINE_MS / 1000} s)`)
  return result
}

/** Every frame of a real capture (data copied), for the decoder properties. */
export function framesOf(capture: Uint8Array): RawFrame[] {
  const frames: RawFrame[] = []
  const parser = createCaptureParser({frame: (f) => frames.push({...f, data: f.data.slice()})})
  parser.push(capture)
  parser.end()
  return frames
}
