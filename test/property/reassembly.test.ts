/**
 * TCP reassembly (src/stream/reassembly.ts): any segmentation of a byte string, shuffled, with
 * duplicates and overlapping retransmissions, starting anywhere in the 32-bit sequence space
 * (so across the wrap), reassembles to exactly that byte string with no gap; and a hole that is
 * never filled comes out as a gap of exactly its size, the bytes around it intact.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {Issue} from '../../src/issues.js'
import {StreamReassembler} from '../../src/stream/reassembly.js'
import type {TcpDirectionStats} from '../../src/stream/types.js'
import {params, timed} from './support.js'

interface Delivered {
  bytes: number[]
  gaps: Array<{at: number; size: number}>
  fin: boolean
  issues: Issue[]
}

function reassembler(maxBufferedBytes = 1 << 30): {r: StreamReassembler; out: Delivered} {
  const out: Delivered = {bytes: [], gaps: [], fin: false, issues: []}
  const stats: TcpDirectionStats = {packets: 0, bytes: 0, deliveredBytes: 0, retransmissions: 0, overlaps: 0, outOfOrder: 0}
  const r = new StreamReassembler(
    {
      data: (bytes) => out.bytes.push(...bytes),
      gap: (size) => out.gaps.push({at: out.bytes.length, size}),
      fin: () => (out.fin = true),
      issue: (issue) => out.issues.push(issue),
    },
    stats,
    {maxBufferedBytes, label: 'client→server'},
  )
  return {r, out}
}

/** A byte string, the ISN, and segments [start, end) covering it: a partition plus extra overlapping copies, in any order. */
const scenario = fc
  .record({
    data: fc.uint8Array({minLength: 1, maxLength: 600}),
    isn: fc.oneof(fc.nat(), fc.constantFrom(0xffffffff, 0xfffffff0, 0xfffffe00)),
    cuts: fc.array(fc.double({min: 0, max: 1, noNaN: true}), {maxLength: 12}),
    extras: fc.array(fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.double({min: 0, max: 1, noNaN: true})), {maxLength: 8}),
    finLast: fc.boolean(),
  })
  .chain((s) => {
    const n = s.data.length
    const points = [...new Set([0, n, ...s.cuts.map((c) => Math.floor(c * n))])].sort((a, b) => a - b)
    const segments: Array<[number, number]> = []
    for (let i = 1; i < points.length; i++) segments.push([points[i - 1]!, points[i]!])
    for (const [a, b] of s.extras) {
      const from = Math.floor(Math.min(a, b) * n)
      const to = Math.max(from + 1, Math.ceil(Math.max(a, b) * n))
      segments.push([from, Math.min(n, to)])
    }
    return fc.shuffledSubarray(segments, {minLength: segments.length, maxLength: segments.length}).map((order) => ({...s, order}))
  })

describe('StreamReassembler', () => {
  it('any shuffled, duplicated and overlapping segmentation yields the byte string, across the sequence wrap', () => {
    fc.assert(
      fc.property(scenario, ({data, isn, order, finLast}) => {
        const {r, out} = reassembler()
        timed('reassembly', () => {
          r.segment(isn, true, false, new Uint8Array(0), 0, 1, 0)
          order.forEach(([from, to], i) => {
            // Each segment is pushed as its own copy: the view dies with the call.
            const payload = data.slice(from, to)
            const fin = finLast && to === data.length
            r.segment((isn + 1 + from) >>> 0, false, fin, payload, payload.length, i + 2, 0)
          })
          r.flush(order.length + 2, 0)
        })
        expect(out.gaps).toEqual([])
        expect(Buffer.from(out.bytes).equals(Buffer.from(data))).toBe(true)
        expect(out.issues.filter((i) => i.code === 'tcp.overlap-mismatch')).toEqual([])
        if (finLast) expect(out.fin).toBe(true)
      }),
      params(500),
    )
  })

  it('a hole never filled becomes one gap of its exact size; the bytes on both sides are delivered', () => {
    fc.assert(
      fc.property(scenario, fc.double({min: 0, max: 1, noNaN: true}), fc.integer({min: 1, max: 50}), ({data, isn, order}, where, holeLength) => {
        const holeStart = Math.floor(where * data.length)
        const holeEnd = Math.min(data.length, holeStart + holeLength)
        if (holeEnd <= holeStart) return
        const {r, out} = reassembler()
        r.segment(isn, true, false, new Uint8Array(0), 0, 1, 0)
        order.forEach(([from, to], i) => {
          // Drop the hole's bytes from every segment that carries them: the parts on either side stay.
          for (const [a, b] of [[from, Math.min(to, holeStart)], [Math.max(from, holeEnd), to]] as const) {
            if (b > a) r.segment((isn + 1 + a) >>> 0, false, false, data.slice(a, b), b - a, i + 2, 0)
          }
        })
        r.flush(order.length + 2, 0)
        const expectedBytes = [...data.subarray(0, holeStart), ...data.subarray(holeEnd)]
        if (holeEnd === data.length) {
          // Nothing after the hole was ever sent: there is nothing to skip to.
          expect(out.gaps).toEqual([])
        } else {
          expect(out.gaps).toEqual([{at: holeStart, size: holeEnd - holeStart}])
        }
        expect(out.bytes).toEqual(expectedBytes)
      }),
      params(500),
    )
  })

  it('memory stays bounded: past maxBufferedBytes the hole is given up with a stream.buffer-limit issue', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 4096}), fc.integer({min: 1, max: 20}), (limit, segments) => {
        const {r, out} = reassembler(limit)
        r.segment(1000, true, false, new Uint8Array(0), 0, 1, 0)
        const payload = new Uint8Array(300).fill(7)
        // Segment 0 never arrives: everything after it waits behind the hole.
        for (let i = 1; i <= segments; i++) {
          r.segment(1001 + i * 300, false, false, payload, payload.length, i + 1, 0)
          expect(r.bufferedBytes).toBeLessThanOrEqual(Math.max(limit, 0))
        }
        const overflowed = segments * 300 > limit
        expect(out.issues.some((i) => i.code === 'stream.buffer-limit')).toBe(overflowed)
      }),
      params(200),
    )
  })
})
