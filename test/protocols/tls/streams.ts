/** Per-direction bytes of the stream vectors (real captures, segments in TCP order). */
import type {Direction} from '../../../src/stream/types.js'
import {fromHex, vectors, type StreamVector} from './vectors.js'

export function streamVector(file: string): StreamVector {
  const s = vectors.streams.find((v) => v.file.endsWith(file))
  if (!s) throw new Error(`no stream vector for ${file}`)
  return s
}

export function directionOf(s: StreamVector, srcPort: number): Direction {
  return srcPort === s.clientPort ? 'c2s' : 's2c'
}

/** All payload bytes of one direction, concatenated. */
export function directionBytes(s: StreamVector, direction: Direction): Uint8Array {
  return Buffer.concat(s.segments.filter((g) => directionOf(s, g.srcPort) === direction).map((g) => fromHex(g.hex)))
}
