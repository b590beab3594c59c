/**
 * StreamReassembler: one direction's segments → in-order bytes and gaps. Payload bytes are real:
 * slices of a corpus capture file (what they are does not matter to TCP, only that they are
 * not a pattern a bug could reproduce by accident).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Issue} from '../../src/issues.js'
import {StreamReassembler, type ReassemblySink} from '../../src/stream/reassembly.js'
import type {TcpDirectionStats} from '../../src/stream/types.js'
import {FIXTURES} from '../helpers/paths.js'

/** The first 64 KiB of a fixture capture file (fixtures/ws/cleartext, 144 kB): real bytes to carry. */
const BYTES = new Uint8Array(readFileSync(join(FIXTURES, 'ws', 'cleartext', 'capture.pcap')).subarray(0, 65536))

type Event = {data: number[]; frame: number} | {gap: number; frame: number} | {fin: number}

class Recorder implements ReassemblySink {
  readonly events: Event[] = []
  readonly issues: Issue[] = []
  readonly stats: TcpDirectionStats = {packets: 0, bytes: 0, deliveredBytes: 0, retransmissions: 0, overlaps: 0, outOfOrder: 0}
  data(bytes: Uint8Array, frame: number): void {
    // Copy: the view is only valid during the call.
    this.events.push({data: [...bytes], frame})
  }
  gap(size: number, frame: number): void {
    this.events.push({gap: size, frame})
  }
  fin(frame: number): void {
    this.events.push({fin: frame})
  }
  issue(issue: Issue): void {
    this.issues.push(issue)
  }
  /** Delivered bytes, gaps left out. */
  get delivered(): number[] {
    return this.events.flatMap((e) => ('data' in e ? e.data : []))
  }
}

function reassembler(maxBufferedBytes = 1 << 20) {
  const recorder = new Recorder()
  return {recorder, r: new StreamReassembler(recorder, recorder.stats, {maxBufferedBytes, label: 'client→server'})}
}

/** Feeds bytes[from, to) at ISN+1+from as frame `frame`, through a scratch copy scribbled afterwards. */
function feed(r: StreamReassembler, isn: number, from: number, to: number, frame: number, bytes = BYTES, fin = false): void {
  const scratch = bytes.slice(from, to)
  r.segment((isn + 1 + from) >>> 0, false, fin, scratch, to - from, frame, frame / 1000)
  scratch.fill(0xee)
}

describe('StreamReassembler', () => {
  it('delivers the same bytes for a split at every byte boundary, in either order', () => {
    const n = 300
    const want = [...BYTES.subarray(0, n)]
    for (let k = 1; k < n; k++) {
      for (const order of [[0, 1], [1, 0]]) {
        const {recorder, r} = reassembler()
        r.segment(1000, true, false, new Uint8Array(0), 0, 1, 0) // SYN, ISN 1000
        const parts: Array<[number, number]> = [[0, k], [k, n]]
        for (const i of order) feed(r, 1000, parts[i]![0], parts[i]![1], 2 + i)
        expect(recorder.delivered).toEqual(want)
        expect(recorder.stats.outOfOrder).toBe(order[0] === 1 ? 1 : 0)
      }
    }
  })

  it('counts entirely old segments and keep-alive probes (1 byte at next-1) as retransmissions, delivering nothing', () => {
    const {recorder, r} = reassembler()
    r.segment(5000, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, 5000, 0, 100, 2)
    feed(r, 5000, 0, 100, 3) // the same segment again
    feed(r, 5000, 99, 100, 4) // keep-alive: seq = next-1, 1 byte (RFC 9293 §3.8.4)
    feed(r, 5000, 50, 150, 5) // half old, half new: an overlap
    expect(recorder.stats).toMatchObject({retransmissions: 2, overlaps: 1, deliveredBytes: 150})
    expect(recorder.delivered).toEqual([...BYTES.subarray(0, 150)])
  })

  it('declares a gap for a dropped segment at the end of input and resumes delivery after it', () => {
    const {recorder, r} = reassembler()
    r.segment(7, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, 7, 0, 100, 2)
    feed(r, 7, 200, 300, 4) // 100..200 (frame 3) was never captured
    expect(recorder.events.filter((e) => 'gap' in e)).toEqual([])
    r.flush(9, 0.009)
    expect(recorder.events).toEqual([
      {data: [...BYTES.subarray(0, 100)], frame: 2},
      {gap: 100, frame: 9},
      {data: [...BYTES.subarray(200, 300)], frame: 4},
    ])
  })

  it('declares the gap as soon as the peer ACKs beyond the hole, before the end', () => {
    const {recorder, r} = reassembler()
    r.segment(7, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, 7, 0, 100, 2)
    feed(r, 7, 200, 300, 4)
    r.acknowledged(7 + 1 + 250, 5, 0.005) // the receiver got up to 250: 100..200 was sent
    expect(recorder.events.slice(1)).toEqual([
      {gap: 100, frame: 5},
      {data: [...BYTES.subarray(200, 300)], frame: 4},
    ])
    feed(r, 7, 300, 400, 6)
    expect(recorder.delivered).toEqual([...BYTES.subarray(0, 100), ...BYTES.subarray(200, 400)])
  })

  it('gives up a hole when more than maxBufferedBytes wait behind it', () => {
    const {recorder, r} = reassembler(150)
    r.segment(0, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, 0, 10, 110, 2) // 0..10 missing
    expect(recorder.events).toEqual([])
    feed(r, 0, 110, 210, 3) // 200 bytes buffered > 150
    expect(recorder.events).toEqual([
      {gap: 10, frame: 3},
      {data: [...BYTES.subarray(10, 110)], frame: 2},
      {data: [...BYTES.subarray(110, 210)], frame: 3},
    ])
    expect(r.bufferedBytes).toBe(0)
  })

  it('delivers the captured part of a snaplen-cut segment, then a gap for the rest, with a tcp.snaplen Issue', () => {
    const {recorder, r} = reassembler()
    r.segment(100, true, false, new Uint8Array(0), 0, 1, 0)
    // 1448 bytes on the wire, 40 captured (a 96-byte snaplen after 56 bytes of headers).
    r.segment(101, false, false, BYTES.slice(0, 40), 1448, 2, 0.002)
    feed(r, 100, 1448, 1500, 3)
    expect(recorder.events).toEqual([
      {data: [...BYTES.subarray(0, 40)], frame: 2},
      {gap: 1408, frame: 2},
      {data: [...BYTES.subarray(1448, 1500)], frame: 3},
    ])
    expect(recorder.issues).toHaveLength(1)
    expect(recorder.issues[0]).toMatchObject({code: 'tcp.snaplen', frame: 2})
    expect(recorder.issues[0]!.message).toContain('snaplen cut 1408 bytes')
  })

  it('keeps the first received bytes of an overlap and flags different content (tcp.overlap-mismatch)', () => {
    const {recorder, r} = reassembler()
    r.segment(0, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, 0, 10, 20, 2) // buffered out of order
    const other = BYTES.slice(100, 115) // different bytes for 5..20
    r.segment(1 + 5, false, false, other, 15, 3, 0.003)
    feed(r, 0, 0, 5, 4)
    expect(recorder.delivered).toEqual([...BYTES.subarray(0, 5), ...other.subarray(0, 5), ...BYTES.subarray(10, 20)])
    expect(recorder.issues.map((i) => [i.code, i.frame])).toEqual([['tcp.overlap-mismatch', 3]])
    expect(recorder.stats.overlaps).toBe(1)
  })

  it('does not flag overlaps whose bytes agree', () => {
    const {recorder, r} = reassembler()
    r.segment(0, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, 0, 10, 20, 2)
    feed(r, 0, 5, 30, 3)
    feed(r, 0, 12, 18, 4) // inside buffered data: a retransmission
    feed(r, 0, 0, 5, 5)
    expect(recorder.delivered).toEqual([...BYTES.subarray(0, 30)])
    expect(recorder.issues).toEqual([])
    expect(recorder.stats).toMatchObject({overlaps: 1, retransmissions: 1, outOfOrder: 2})
  })

  it('wraps sequence numbers modulo 2^32 (ISN 2^32 - 50, data crossing zero, out of order)', () => {
    const {recorder, r} = reassembler()
    const isn = 0xffffffce
    r.segment(isn, true, false, new Uint8Array(0), 0, 1, 0)
    feed(r, isn, 100, 200, 2) // seq wraps past 0 here
    feed(r, isn, 0, 100, 3)
    feed(r, isn, 200, 300, 4, BYTES, true) // with FIN
    expect(recorder.delivered).toEqual([...BYTES.subarray(0, 300)])
    expect(recorder.events.at(-1)).toEqual({fin: 4})
    r.acknowledged((isn + 1 + 301) >>> 0, 5, 0) // ACK of the FIN: nothing missing
    expect(recorder.events.filter((e) => 'gap' in e)).toEqual([])
  })

  it('starts from the first segment seen when no SYN was captured, and reaches a FIN sent ahead of missing data on flush', () => {
    const {recorder, r} = reassembler()
    feed(r, 41, 0, 10, 1)
    r.segment((42 + 20) >>> 0, false, true, new Uint8Array(0), 0, 2, 0) // FIN at offset 20: 10..20 missing
    expect(recorder.events.some((e) => 'fin' in e)).toBe(false)
    r.flush(3, 0.003)
    expect(recorder.events).toEqual([{data: [...BYTES.subarray(0, 10)], frame: 1}, {gap: 10, frame: 3}, {fin: 3}])
  })
})
