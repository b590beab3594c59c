/**
 * Regression for what test/property/websocket.test.ts found: when a stream was not HTTP, the
 * http.not-http issue quoted "the first bytes" from the chunk at hand only, so a first TCP segment
 * ending right after the offending byte gave "first bytes 81" where the same stream in one segment
 * gave 16 bytes — the report changed with where the capture's segments split. The evidence is now
 * completed from the following chunks. On the first WebSocket frame each side sent in
 * fixtures/ws/cleartext (test/protocols/websocket/streams.json), given as if it opened the stream.
 */
import {describe, expect, it} from 'vitest'
import {HttpUpgradeReader} from '../../src/protocols/http/upgrade.js'
import {capture, chunks} from '../protocols/websocket/streams.js'

const streams = capture('cleartext')
const response = streams.tshark.http.find((m) => m.kind === 'response')!
const firstFrames = chunks(streams).filter((c) => c.frame > response.frame)

describe('http.not-http names the same first bytes wherever the stream splits', () => {
  it.each(['c2s', 's2c'] as const)('%s: the frames in one chunk, as captured, cut after 1, 2 and 15 bytes, and byte by byte', (direction) => {
    const segments = firstFrames.filter((c) => c.direction === direction)
    const first = segments[0]!
    const stream = Buffer.concat(segments.map((c) => c.bytes))
    expect(stream.length).toBeGreaterThanOrEqual(16)
    const want = `the ${direction === 'c2s' ? 'client' : 'server'}'s data does not start with an HTTP ${direction === 'c2s' ? 'request' : 'status'} line; first bytes ${stream.subarray(0, 16).toString('hex')}`
    /** The stream as [bytes, ref] pieces: whole, or each captured segment cut further at `cuts` (stream offsets). */
    const asCaptured = (cuts: number[]) => {
      const pieces: Array<[Uint8Array, typeof first]> = []
      let at = 0
      for (const c of segments) {
        const inside = cuts.filter((x) => x > at && x < at + c.bytes.length).map((x) => x - at)
        let from = 0
        for (const to of [...inside, c.bytes.length]) {
          pieces.push([c.bytes.subarray(from, to), c])
          from = to
        }
        at += c.bytes.length
      }
      return pieces
    }
    const variants = [[[stream, first]] as Array<[Uint8Array, typeof first]>, asCaptured([]), asCaptured([1]), asCaptured([2]), asCaptured([15]), asCaptured(Array.from({length: 16}, (_, i) => i + 1))]
    for (const pieces of variants) {
      const r = new HttpUpgradeReader()
      for (const [bytes, ref] of pieces) r.data(direction, bytes, ref)
      expect(r.facts.issues, `${pieces.length} pieces`).toEqual([{code: 'http.not-http', severity: 'error', message: want, frame: first.frame}])
    }
  })

  it('a hole after the first byte ends the evidence: bytes after it are not the first bytes', () => {
    const first = firstFrames.find((c) => c.direction === 's2c')!
    const r = new HttpUpgradeReader()
    r.data('s2c', first.bytes.subarray(0, 1), first)
    r.gap('s2c', 100, first)
    r.data('s2c', first.bytes.subarray(1), first)
    expect(r.facts.issues.map((i) => i.message)).toEqual([`the server's data does not start with an HTTP status line; first bytes ${first.bytes[0]!.toString(16).padStart(2, '0')}`])
  })
})
