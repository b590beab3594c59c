/**
 * The readers are state machines that must not care where chunks split: a file pushed in two
 * pieces at every possible split point, or one byte at a time, gives the same frames and secrets
 * as the whole file in one push (whose frames the corpus test checks against tshark).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createCaptureParser} from '../../src/capture/parser.js'
import {CORPUS_PCAPS, FIXTURES} from '../helpers/paths.js'
import {describeWithJa4, presentFiles} from '../helpers/skip.js'
import {frameLines, parseBytes, parsePieces} from './collect.js'

const FILES = presentFiles([
  join(CORPUS_PCAPS, 'tls12.pcap'), // classic pcap, µs, 1 frame of 571 bytes
  join(FIXTURES, 'capture', 'nanosecond', 'capture.pcap'), // classic pcap, ns, snaplen-cut frames
  join(CORPUS_PCAPS, 'dhcp.pcapng'), // pcapng: SHB, IDB, 4 EPBs
  join(FIXTURES, 'capture', 'dsb', 'capture.pcapng'), // pcapng with a Decryption Secrets Block
])

describe.each(FILES)('%s split anywhere', (path) => {
  const bytes = readFileSync(path)
  const whole = parseBytes(bytes)
  /** Frames as lines, secrets with their bytes in hex, and the summary: the whole result. */
  const render = (result: ReturnType<typeof parseBytes>) => ({
    frames: frameLines(result.frames),
    secrets: result.secrets.map((s) => `${s.secretsType} @${s.offset} ${Buffer.from(s.data).toString('hex')}`),
    summary: result.summary,
  })
  const expected = render(whole)

  it('reads frames when whole', () => {
    expect(whole.frames.length).toBeGreaterThan(0)
    expect(whole.summary.truncatedTail).toBeUndefined()
  })

  it('gives the same result for a split at every byte boundary', () => {
    for (let split = 1; split < bytes.length; split++) {
      const result = render(parsePieces([bytes.subarray(0, split), bytes.subarray(split)]))
      // Compare cheaply first; on a difference, fail with the split point in the diff.
      if (JSON.stringify(result) !== JSON.stringify(expected)) expect({split, ...result}).toEqual({split, ...expected})
    }
  })

  it('gives the same result one byte at a time', () => {
    const pieces = Array.from({length: bytes.length}, (_, i) => bytes.subarray(i, i + 1))
    expect(render(parsePieces(pieces))).toEqual(expected)
  })

  it('gives the same result when an empty chunk comes between every byte', () => {
    const empty = new Uint8Array(0)
    const pieces = Array.from({length: bytes.length}, (_, i) => [empty, bytes.subarray(i, i + 1)]).flat()
    expect(render(parsePieces([...pieces, empty]))).toEqual(expected)
  })
})

describeWithJa4('frame bytes are views, not copies', () => {
  it('a record inside one chunk is a view into that chunk; one spanning chunks is a fresh buffer', () => {
    const bytes = readFileSync(join(CORPUS_PCAPS, 'ssh2-malformed.pcap'))
    const half = bytes.length >> 1
    const first = bytes.subarray(0, half)
    const buffers: ArrayBufferLike[] = []
    const offsets: number[] = []
    const parser = createCaptureParser({
      frame(frame) {
        buffers.push(frame.data.buffer)
        offsets.push(frame.data.byteOffset)
      },
    })
    parser.push(first)
    parser.push(bytes.subarray(half))
    parser.end()
    const whole = parseBytes(bytes).frames
    // Frames whose record lies inside the first half share its memory at the exact offset.
    let recordEnd = 24
    whole.forEach((frame, i) => {
      const recordStart = recordEnd
      recordEnd += 16 + frame.data.length
      if (recordEnd <= half) {
        expect(buffers[i]).toBe(first.buffer)
        expect(offsets[i]).toBe(first.byteOffset + recordStart + 16)
      } else if (recordStart < half) {
        expect(buffers[i]).not.toBe(first.buffer)
        expect(buffers[i]!.byteLength).toBe(16 + frame.data.length)
      }
    })
  })
})
