/**
 * Capture readers (pcap, pcapng, the sniffing parser) on mutated real captures: nothing but a
 * CaptureFormatError escapes, every input finishes in bounded time, and where the chunks split
 * changes nothing (same frames, same summary or the same error at the same offset).
 */
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {createCaptureParser} from '../../src/capture/parser.js'
import {CaptureFormatError} from '../../src/capture/types.js'
import {CAPTURES, mutatedArb, noteAbsentCorpusSeeds, params, piecesOf, splitsArb, timed} from './support.js'

/** Everything a parse produced: each frame's fields and a digest of its bytes, then the summary or the error. */
function parseOutcome(pieces: Uint8Array[]): string[] {
  const out: string[] = []
  const parser = createCaptureParser({
    frame: (f) => out.push(`${f.index} ${f.tsSec}.${f.tsNsec} ${f.linkType} ${f.origLen} ${f.interfaceId} ${createHash('sha1').update(f.data).digest('hex')}`),
    secrets: (s) => out.push(`secrets ${s.secretsType} ${s.offset} ${s.data.length}`),
  })
  try {
    for (const piece of pieces) parser.push(piece)
    out.push(`summary ${JSON.stringify(parser.end())}`)
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err
    out.push(`error ${err.code} at ${err.offset}`)
    // After an error the parser keeps failing with the same error (the parser's contract).
    expect(() => parser.end()).toThrow(err)
  }
  return out
}

describe('capture readers on mutated real captures', () => {
  noteAbsentCorpusSeeds()
  it('only CaptureFormatError escapes, in bounded time', () => {
    fc.assert(
      fc.property(mutatedArb(CAPTURES), ([name, bytes]) => {
        const outcome = timed(`parsing mutated ${name}`, () => parseOutcome([bytes]))
        expect(outcome.at(-1)).toMatch(/^(summary|error) /)
      }),
      params(400),
    )
  })

  it('splitting the input anywhere yields the same frames and the same end', () => {
    fc.assert(
      fc.property(mutatedArb(CAPTURES, 3), splitsArb(5), ([, bytes], splits) => {
        expect(parseOutcome(piecesOf(bytes, splits))).toEqual(parseOutcome([bytes]))
      }),
      params(300),
    )
  })

  it('a capture cut anywhere past its header is not an error: the frames before the cut, and a truncated tail unless it fell between records', () => {
    const file = CAPTURES['tls13-lo.pcap']!
    const whole = parseOutcome([file])
    // Record boundaries of the little-endian pcap: 24-byte file header, then 16-byte record headers + caplen.
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
    const ends: number[] = []
    for (let off = 24; off < file.length; off += 16 + view.getUint32(off + 8, true)) ends.push(off + 16 + view.getUint32(off + 8, true))
    fc.assert(
      fc.property(fc.integer({min: 24, max: file.length}), (length) => {
        const outcome = parseOutcome([file.subarray(0, length)])
        const summary = JSON.parse(outcome.at(-1)!.replace(/^summary /, ''))
        const complete = ends.filter((end) => end <= length).length
        expect(summary.frames).toBe(complete)
        expect(outcome.slice(0, -1)).toEqual(whole.slice(0, complete))
        expect(summary.truncatedTail === undefined).toBe(length === 24 || ends.includes(length))
      }),
      params(200),
    )
  })
})
