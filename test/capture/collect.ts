/** Test helpers for the capture readers: sinks that keep copies of what they are handed. */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {createCaptureParser} from '../../src/capture/parser.js'
import type {CaptureSink, CaptureSummary, DecryptionSecrets, RawFrame} from '../../src/capture/types.js'
import {requireTool} from '../helpers/tools.js'

export interface Collected {
  frames: RawFrame[]
  secrets: DecryptionSecrets[]
}

/**
 * A sink that copies every frame and secret into plain Uint8Arrays (the reader's views are valid
 * only during the call; Buffer.prototype.slice would not copy).
 */
export function collector(): Collected & {sink: CaptureSink} {
  const frames: RawFrame[] = []
  const secrets: DecryptionSecrets[] = []
  const sink: CaptureSink = {
    frame: (frame) => frames.push({...frame, data: new Uint8Array(frame.data)}),
    secrets: (s) => secrets.push({...s, data: new Uint8Array(s.data)}),
  }
  return {frames, secrets, sink}
}

/** Parses `bytes` pushed as the given consecutive pieces (default: one piece). */
export function parsePieces(pieces: Uint8Array[]): Collected & {summary: CaptureSummary} {
  const {frames, secrets, sink} = collector()
  const parser = createCaptureParser(sink)
  for (const piece of pieces) parser.push(piece)
  return {frames, secrets, summary: parser.end()}
}

export function parseBytes(bytes: Uint8Array): Collected & {summary: CaptureSummary} {
  return parsePieces([bytes])
}

/** What tshark-digests.py records per file, computed the same way from our frames. */
export function digestOf(frames: RawFrame[]): {
  frames: number
  firstTime: string
  lastTime: string
  sumLen: number
  sumCapLen: number
  sha256: string
} {
  const sha = createHash('sha256')
  let sumLen = 0
  let sumCapLen = 0
  for (const frame of frames) {
    sha.update(frame.data)
    sumLen += frame.origLen
    sumCapLen += frame.data.length
  }
  return {
    frames: frames.length,
    firstTime: epoch(frames[0]!),
    lastTime: epoch(frames[frames.length - 1]!),
    sumLen,
    sumCapLen,
    sha256: sha.digest('hex'),
  }
}

/** A frame's time as tshark prints frame.time_epoch: seconds, a dot, nine digits. */
export function epoch(frame: Pick<RawFrame, 'tsSec' | 'tsNsec'>): string {
  return `${frame.tsSec}.${String(frame.tsNsec).padStart(9, '0')}`
}

/** `tshark -r file -T fields -e ...` as rows of strings. */
export function tsharkFields(file: string, fields: string[]): string[][] {
  requireTool('tshark')
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  })
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'))
}

/** One line per frame with every field and the bytes in hex: fast to compare, readable in a diff. */
export function frameLines(frames: RawFrame[]): string[] {
  return frames.map(
    (f) =>
      `#${f.index} ${epoch(f)} link=${f.linkType} if=${f.interfaceId} orig=${f.origLen} cap=${f.data.length} ` +
      Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('hex'),
  )
}
