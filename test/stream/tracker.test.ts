/**
 * ConnectionTracker on constructed Packet values (the dissect layer's output): client detection,
 * refused and unanswered handshakes, port reuse, tunnels, limits, and the reassembly property
 * over real bytes cut, shuffled, duplicated and re-segmented.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet} from '../../src/packet/types.js'
import {ConnectionTracker} from '../../src/stream/tracker.js'
import type {Direction, FrameRef, StreamHandler, TrackedConnection} from '../../src/stream/types.js'
import {FIXTURES} from '../helpers/paths.js'
import {segment} from './segments.js'

/** The first 64 KiB of a fixture capture file (fixtures/ws/cleartext, 144 kB): real bytes to carry. */
const SOURCE = new Uint8Array(readFileSync(join(FIXTURES, 'ws', 'cleartext', 'capture.pcap')).subarray(0, 65536))

const C = {ip: '10.1.1.1', port: 50123}
const S = {ip: '10.2.2.2', port: 8084}
const fromClient = (frame: number, seq: number, ack: number, flags: number, payload?: Uint8Array, extra: Partial<Parameters<typeof segment>[0]> = {}) =>
  segment({frame, src: C.ip, sport: C.port, dst: S.ip, dport: S.port, seq, ack, flags, payload, ...extra})
const fromServer = (frame: number, seq: number, ack: number, flags: number, payload?: Uint8Array, extra: Partial<Parameters<typeof segment>[0]> = {}) =>
  segment({frame, src: S.ip, sport: S.port, dst: C.ip, dport: C.port, seq, ack, flags, payload, ...extra})

class Recorder {
  readonly bytes: Record<Direction, number[]> = {c2s: [], s2c: []}
  readonly gaps: Array<[Direction, number]> = []
  readonly ends: Array<[Direction | 'both', number]> = []
  readonly handler: StreamHandler = {
    data: (direction, bytes) => {
      for (const b of bytes) this.bytes[direction].push(b)
    },
    gap: (direction, size) => this.gaps.push([direction, size]),
    end: (direction, ref: FrameRef) => this.ends.push([direction, ref.frame]),
  }
}

function tracker(options: {maxConnections?: number; isServerPort?: (port: number) => boolean} = {}) {
  const recorders: Recorder[] = []
  const t = new ConnectionTracker({
    isServerPort: options.isServerPort ?? ((port) => port === 8084),
    maxConnections: options.maxConnections,
    onConnection: () => {
      const recorder = new Recorder()
      recorders.push(recorder)
      return recorder.handler
    },
  })
  return {t, recorders}
}

/** Pushes through a scratch copy of the payload that is scribbled after the call. */
function push(t: ConnectionTracker, packet: Packet): void {
  const tcp = packet.tcp!
  const scratch = tcp.payload.slice()
  t.push({...packet, tcp: {...tcp, payload: scratch}})
  scratch.fill(0xee)
}

const endpoint = (c: TrackedConnection) => `${c.client.ip}:${c.client.port} -> ${c.server.ip}:${c.server.port}`

describe('ConnectionTracker: who is the client', () => {
  it('the sender of the SYN (even on the higher, non-server port)', () => {
    const {t} = tracker()
    t.push(fromServer(1, 100, 0, TCP_SYN)) // the 8084 side opens: it is the client
    const [conn] = t.finish()
    expect(conn!.tcp.clientBy).toBe('syn')
    expect(endpoint(conn!)).toBe('10.2.2.2:8084 -> 10.1.1.1:50123')
    expect(conn!.tcp.sawOpening).toBe(true)
  })

  it('the receiver of a SYN-ACK when only the SYN-ACK was captured, and the client bytes start at its ACK number', () => {
    const {t, recorders} = tracker()
    t.push(fromServer(1, 7000, 301, TCP_SYN | TCP_ACK))
    t.push(fromClient(2, 301, 7001, TCP_ACK, SOURCE.subarray(0, 10)))
    t.push(fromServer(3, 7001, 311, TCP_ACK, SOURCE.subarray(10, 30)))
    const [conn] = t.finish()
    expect(conn!.tcp.clientBy).toBe('syn-ack')
    expect(endpoint(conn!)).toBe('10.1.1.1:50123 -> 10.2.2.2:8084')
    expect(conn!.tcp.sawOpening).toBe(false)
    expect(conn!.tcp.ack?.frame).toBe(2)
    expect(conn!.tcp.handshakeRttMs).toBeUndefined() // no SYN: no start to measure from
    expect(recorders[0]!.bytes.c2s).toEqual([...SOURCE.subarray(0, 10)])
    expect(recorders[0]!.bytes.s2c).toEqual([...SOURCE.subarray(10, 30)])
  })

  it('by server port mid-stream: the side not on a server port, whichever sends first', () => {
    const {t} = tracker()
    t.push(fromServer(1, 5, 9, TCP_ACK, SOURCE.subarray(0, 5)))
    const [conn] = t.finish()
    expect(conn!.tcp.clientBy).toBe('port')
    expect(endpoint(conn!)).toBe('10.1.1.1:50123 -> 10.2.2.2:8084')
  })

  it('by the higher port when both or neither port is a server port', () => {
    for (const isServerPort of [() => false, () => true]) {
      const {t} = tracker({isServerPort})
      t.push(segment({frame: 1, src: '10.0.0.1', sport: 443, dst: '10.0.0.2', dport: 61000, seq: 1, ack: 1}))
      const [conn] = t.finish()
      expect(endpoint(conn!)).toBe('10.0.0.2:61000 -> 10.0.0.1:443')
    }
  })
})

describe('ConnectionTracker: handshake facts', () => {
  it('a full handshake: SYN and SYN-ACK options, the ACK and the RTT from SYN to ACK', () => {
    const {t} = tracker()
    t.push(fromClient(1, 1000, 0, TCP_SYN, undefined, {ts: 10, options: {mss: 1460, windowScale: 7, sackPermitted: true, tsVal: 1}}))
    t.push(fromServer(2, 5000, 1001, TCP_SYN | TCP_ACK, undefined, {ts: 10.025, options: {mss: 1400}}))
    t.push(fromClient(3, 1001, 5001, TCP_ACK, undefined, {ts: 10.0255}))
    const tcp = t.finish()[0]!.tcp
    expect(tcp.syn).toEqual({frame: 1, ts: 10, mss: 1460, windowScale: 7, sackPermitted: true, timestamps: true})
    expect(tcp.synAck).toEqual({frame: 2, ts: 10.025, mss: 1400})
    expect(tcp.ack).toEqual({frame: 3, ts: 10.0255})
    expect(tcp.handshakeRttMs).toBeCloseTo(25.5, 9)
  })

  it('refused: SYN answered by RST/ACK with ACK = ISN+1 is rstToSyn, and the handler hears the end', () => {
    const {t, recorders} = tracker()
    t.push(fromClient(1, 0xfffffff0, 0, TCP_SYN))
    t.push(fromServer(2, 0, 0xfffffff1, TCP_RST | TCP_ACK))
    const tcp = t.finish()[0]!.tcp
    expect(tcp.rstToSyn?.frame).toBe(2)
    expect(tcp.rst).toEqual([{frame: 2, ts: 0.002, from: 'server'}])
    expect(tcp.synAck).toBeUndefined()
    expect(tcp.handshakeRttMs).toBeUndefined()
    expect(recorders[0]!.ends).toEqual([['both', 2]])
  })

  it('an RST after a SYN-ACK is not rstToSyn', () => {
    const {t} = tracker()
    t.push(fromClient(1, 10, 0, TCP_SYN))
    t.push(fromServer(2, 20, 11, TCP_SYN | TCP_ACK))
    t.push(fromServer(3, 21, 11, TCP_RST | TCP_ACK))
    expect(t.finish()[0]!.tcp.rstToSyn).toBeUndefined()
  })

  it('unanswered SYNs with the same ISN are retransmissions of one connection', () => {
    const {t} = tracker()
    for (const [frame, ts] of [[1, 0], [2, 1], [3, 3], [4, 7]] as const) t.push(fromClient(frame, 777, 0, TCP_SYN, undefined, {ts}))
    const conns = t.finish()
    expect(conns).toHaveLength(1)
    expect(conns[0]!.tcp.syn?.frame).toBe(1)
    expect(conns[0]!.tcp.synRetransmissions).toEqual([{frame: 2, ts: 1}, {frame: 3, ts: 3}, {frame: 4, ts: 7}])
    expect(conns[0]!.tcp.synAck).toBeUndefined()
  })

  it('SYN-ACK retransmissions with the same ISN are counted; the RTT starts at the SYN that was answered', () => {
    const {t} = tracker()
    t.push(fromClient(1, 1, 0, TCP_SYN, undefined, {ts: 0}))
    t.push(fromClient(2, 1, 0, TCP_SYN, undefined, {ts: 1}))
    t.push(fromServer(3, 50, 2, TCP_SYN | TCP_ACK, undefined, {ts: 1.01}))
    t.push(fromServer(4, 50, 2, TCP_SYN | TCP_ACK, undefined, {ts: 2.01}))
    t.push(fromClient(5, 2, 51, TCP_ACK, undefined, {ts: 2.02}))
    const tcp = t.finish()[0]!.tcp
    expect(tcp.synAckRetransmissions.map((r) => r.frame)).toEqual([4])
    // As Wireshark's initial_rtt: from the most recent SYN (frame 2, t=1) to the ACK (t=2.02).
    expect(tcp.handshakeRttMs).toBeCloseTo(1020, 6)
  })
})

describe('ConnectionTracker: connections', () => {
  it('a new SYN with a new ISN on a closed 4-tuple starts a second connection (port reuse)', () => {
    const {t, recorders} = tracker()
    t.push(fromClient(1, 100, 0, TCP_SYN))
    t.push(fromServer(2, 900, 101, TCP_SYN | TCP_ACK))
    t.push(fromClient(3, 101, 901, TCP_ACK, SOURCE.subarray(0, 4)))
    t.push(fromClient(4, 105, 901, TCP_FIN | TCP_ACK))
    t.push(fromServer(5, 901, 106, TCP_FIN | TCP_ACK))
    t.push(fromClient(6, 106, 902, TCP_ACK))
    t.push(fromClient(7, 555555, 0, TCP_SYN)) // same 4-tuple, new ISN
    t.push(fromServer(8, 42, 555556, TCP_SYN | TCP_ACK))
    t.push(fromClient(9, 555556, 43, TCP_ACK, SOURCE.subarray(4, 8)))
    const conns = t.finish()
    expect(conns.map((c) => [c.id, c.tcp.firstFrame, c.tcp.lastFrame])).toEqual([[1, 1, 6], [2, 7, 9]])
    expect(conns[0]!.tcp.fin.map((f) => f.from)).toEqual(['client', 'server'])
    expect(conns[0]!.issues).toEqual([]) // it had ended: no port-reuse warning
    expect(recorders.map((r) => r.bytes.c2s)).toEqual([[...SOURCE.subarray(0, 4)], [...SOURCE.subarray(4, 8)]])
    expect(recorders[0]!.ends).toEqual([['c2s', 4], ['s2c', 5]])
  })

  it('keeps connections apart that share both ports (one table chain): closing, late packets and reopening in the middle of it', () => {
    // Three Defenders behind different addresses that picked the same source port: the flow
    // table keys on the ports, so their flows chain under one key. B, in the middle of the chain,
    // closes (its flows become tombstones in place), gets a late packet, then reopens on a new ISN
    // (its tombstones are taken out of the chain); A and C carry on throughout.
    const {t, recorders} = tracker()
    const at = (ip: string) => ({
      c: (frame: number, seq: number, ack: number, flags: number, payload?: Uint8Array) => segment({frame, src: ip, sport: C.port, dst: S.ip, dport: S.port, seq, ack, flags, payload}),
      s: (frame: number, seq: number, ack: number, flags: number, payload?: Uint8Array) => segment({frame, src: S.ip, sport: S.port, dst: ip, dport: C.port, seq, ack, flags, payload}),
    })
    const [a, b, c] = [at('10.9.0.1'), at('10.9.0.2'), at('10.9.0.3')]
    let frame = 0
    for (const p of [a, b, c]) {
      t.push(p.c(++frame, 100, 0, TCP_SYN))
      t.push(p.s(++frame, 900, 101, TCP_SYN | TCP_ACK))
      t.push(p.c(++frame, 101, 901, TCP_ACK, SOURCE.subarray(0, 4)))
    }
    t.push(b.c(++frame, 105, 901, TCP_FIN | TCP_ACK)) // 10
    t.push(b.s(++frame, 901, 106, TCP_FIN | TCP_ACK))
    t.push(b.c(++frame, 106, 902, TCP_ACK)) // 12: B released
    t.push(a.c(++frame, 105, 901, TCP_ACK, SOURCE.subarray(4, 8))) // 13
    t.push(b.c(++frame, 106, 902, TCP_ACK)) // 14: B's late packet (on its tombstone)
    t.push(c.s(++frame, 901, 105, TCP_ACK, SOURCE.subarray(8, 12))) // 15
    t.push(b.c(++frame, 777000, 0, TCP_SYN)) // 16: B again, a new ISN
    t.push(b.s(++frame, 5000, 777001, TCP_SYN | TCP_ACK))
    t.push(b.c(++frame, 777001, 5001, TCP_ACK, SOURCE.subarray(12, 16))) // 18
    t.push(c.c(++frame, 105, 905, TCP_ACK, SOURCE.subarray(16, 20))) // 19
    const conns = t.finish()
    expect(conns.map((x) => [x.id, x.client.ip, x.tcp.firstFrame, x.tcp.lastFrame, x.tcp.c2s.packets])).toEqual([
      [1, '10.9.0.1', 1, 13, 3],
      [2, '10.9.0.2', 4, 14, 5],
      [3, '10.9.0.3', 7, 19, 3],
      [4, '10.9.0.2', 16, 18, 2],
    ])
    expect(recorders.map((r) => [r.bytes.c2s, r.bytes.s2c])).toEqual([
      [[...SOURCE.subarray(0, 8)], []],
      [[...SOURCE.subarray(0, 4)], []],
      [[...SOURCE.subarray(0, 4), ...SOURCE.subarray(16, 20)], [...SOURCE.subarray(8, 12)]],
      [[...SOURCE.subarray(12, 16)], []],
    ])
    expect(conns.every((x) => x.issues.length === 0)).toBe(true)
  })

  it('keeps one connection when each direction travels in its own GENEVE VNI (as in tcpdump-geneve.pcap)', () => {
    const {t} = tracker()
    t.push(fromClient(1, 1, 0, TCP_SYN, undefined, {vni: 11}))
    t.push(fromClient(2, 1, 0, TCP_SYN, undefined, {vni: 11}))
    const conns = t.finish()
    expect(conns.map((c) => [c.tunnels?.[0]?.vni, c.tcp.synRetransmissions.length])).toEqual([[11, 1]])
  })

  it('over maxConnections, finishes the least recently active connection (flushing its holes) with an Issue', () => {
    const {t, recorders} = tracker({maxConnections: 2})
    const conn = (port: number) => ({src: '10.9.9.9', sport: port, dst: S.ip, dport: 8084})
    t.push(segment({frame: 1, ...conn(40001), seq: 1, flags: TCP_SYN}))
    t.push(segment({frame: 2, ...conn(40002), seq: 1, flags: TCP_SYN}))
    t.push(segment({frame: 3, ...conn(40001), seq: 12, ack: 1, payload: SOURCE.subarray(10, 20)})) // 40001 active again; 2..12 missing
    t.push(segment({frame: 4, ...conn(40003), seq: 1, flags: TCP_SYN})) // third: 40002 is the idlest
    expect(recorders[1]!.gaps).toEqual([])
    t.push(segment({frame: 5, ...conn(40004), seq: 1, flags: TCP_SYN})) // fourth: now 40001 goes, its hole becomes a gap
    expect(recorders[0]!.gaps).toEqual([['c2s', 10]])
    expect(recorders[0]!.bytes.c2s).toEqual([...SOURCE.subarray(10, 20)])
    const conns = t.finish()
    expect(conns.map((c) => c.issues.map((i) => i.code))).toEqual([['stream.connection-limit'], ['stream.connection-limit'], [], []])
    expect(conns[1]!.issues[0]!.frame).toBe(4)
  })

  it('the tombstone of a closed connection stays 30 s of capture time: a late packet before that counts on it, one after opens a new connection', () => {
    const {t} = tracker()
    const close = (base: number, ts: number) => {
      t.push(fromClient(base, 100, 0, TCP_SYN, undefined, {ts}))
      t.push(fromServer(base + 1, 900, 101, TCP_SYN | TCP_ACK, undefined, {ts}))
      t.push(fromClient(base + 2, 101, 901, TCP_FIN | TCP_ACK, undefined, {ts}))
      t.push(fromServer(base + 3, 901, 102, TCP_FIN | TCP_ACK, undefined, {ts}))
    }
    close(1, 0)
    // Its last ACK, 10 s late, and a new connection elsewhere (which lets go of the expired).
    t.push(fromClient(5, 102, 902, TCP_ACK, undefined, {ts: 10}))
    t.push(segment({frame: 6, ts: 10, src: '10.3.3.3', sport: 40000, dst: S.ip, dport: 8084, seq: 1, flags: TCP_SYN}))
    // 31 s after the release: the next new connection removes its tombstone, so a late packet is new.
    t.push(segment({frame: 7, ts: 31, src: '10.3.3.4', sport: 40000, dst: S.ip, dport: 8084, seq: 1, flags: TCP_SYN}))
    t.push(fromClient(8, 102, 902, TCP_ACK, undefined, {ts: 31}))
    const conns = t.finish()
    expect(conns.map((c) => [c.id, c.tcp.firstFrame, c.tcp.lastFrame, c.tcp.clientBy])).toEqual([
      [1, 1, 5, 'syn'],
      [2, 6, 6, 'syn'],
      [3, 7, 7, 'syn'],
      [4, 8, 8, 'port'],
    ])
  })

  it('closed connections do not count against maxConnections: an idle open one is not pushed out by them', () => {
    const {t} = tracker({maxConnections: 2})
    t.push(segment({frame: 100, src: '10.8.8.8', sport: 40000, dst: S.ip, dport: 8084, seq: 1, flags: TCP_SYN}))
    for (let i = 0; i < 5; i++) {
      const conn = {src: '10.9.9.9', sport: 41000 + i, dst: S.ip, dport: 8084}
      t.push(segment({frame: i * 3 + 1, ...conn, seq: 1, flags: TCP_SYN}))
      t.push(segment({frame: i * 3 + 2, src: S.ip, sport: 8084, dst: conn.src, dport: conn.sport, seq: 50, ack: 2, flags: TCP_SYN | TCP_ACK}))
      t.push(segment({frame: i * 3 + 3, ...conn, seq: 2, ack: 51, flags: TCP_RST}))
    }
    const conns = t.finish()
    expect(conns).toHaveLength(6)
    expect(conns.flatMap((c) => c.issues.map((i) => i.code))).toEqual([])
  })

  it('keeps connections apart that share their ports but not their addresses, through close and reuse', () => {
    const {t, recorders} = tracker()
    const a = {src: '10.0.0.1', sport: 40000, dst: S.ip, dport: 8084}
    const b = {src: '10.0.0.2', sport: 40000, dst: S.ip, dport: 8084}
    t.push(segment({frame: 1, ...a, seq: 1, flags: TCP_SYN}))
    t.push(segment({frame: 2, ...b, seq: 7, flags: TCP_SYN}))
    t.push(segment({frame: 3, ...a, seq: 2, flags: TCP_RST})) // a ends
    t.push(segment({frame: 4, ...b, seq: 8, ack: 1, payload: SOURCE.subarray(0, 3)}))
    t.push(segment({frame: 5, ...a, seq: 900, flags: TCP_SYN})) // a's 4-tuple reused: a new connection
    t.push(segment({frame: 6, ...a, seq: 901, ack: 1, payload: SOURCE.subarray(3, 5)}))
    const conns = t.finish()
    expect(conns.map((c) => [c.id, c.client.ip, c.tcp.firstFrame, c.tcp.lastFrame])).toEqual([
      [1, '10.0.0.1', 1, 3],
      [2, '10.0.0.2', 2, 4],
      [3, '10.0.0.1', 5, 6],
    ])
    expect(recorders.map((r) => r.bytes.c2s)).toEqual([[], [...SOURCE.subarray(0, 3)], [...SOURCE.subarray(3, 5)]])
  })

  it('ignores packets without TCP', () => {
    const {t} = tracker()
    const packet = fromClient(1, 1, 0, TCP_SYN)
    t.push({...packet, tcp: undefined})
    expect(t.finish()).toEqual([])
  })
})

describe('reassembly property: cut, shuffled, duplicated and re-segmented real bytes come out whole', () => {
  /** Segments [from, to) of the stream, in the order they go on the "wire". */
  const scenario = fc
    .record({
      length: fc.integer({min: 1, max: SOURCE.length}),
      isn: fc.oneof(fc.integer({min: 0, max: 0xffffffff}), fc.integer({min: 0xffffffff - 70000, max: 0xffffffff})),
      cuts: fc.array(fc.double({min: 0, max: 1, noNaN: true}), {maxLength: 120}),
      extra: fc.array(fc.tuple(fc.double({min: 0, max: 1, noNaN: true}), fc.double({min: 0, max: 1, noNaN: true})), {maxLength: 40}),
      duplicates: fc.array(fc.nat(), {maxLength: 30}),
      order: fc.array(fc.nat(), {maxLength: 200}),
      withSyn: fc.boolean(),
    })
    .map(({length, isn, cuts, extra, duplicates, order, withSyn}) => {
      const points = [...new Set(cuts.map((c) => Math.floor(c * length)))].filter((p) => p > 0 && p < length).sort((a, b) => a - b)
      const bounds = [0, ...points, length]
      const pieces: Array<[number, number]> = []
      for (let i = 1; i < bounds.length; i++) pieces.push([bounds[i - 1]!, bounds[i]!])
      const partition = pieces.slice()
      // Re-segmentations overlapping the original cuts, as a sender repacketizing a retransmission.
      for (const [a, b] of extra) {
        const from = Math.floor(Math.min(a, b) * length)
        const to = Math.max(from + 1, Math.ceil(Math.max(a, b) * length))
        if (to <= length) pieces.push([from, to])
      }
      for (const d of duplicates) pieces.push(pieces[d % pieces.length]!)
      // Shuffle with the generated keys (Fisher-Yates); without a SYN the first piece stays first.
      const start = withSyn ? 0 : 1
      for (let i = pieces.length - 1; i > start; i--) {
        const j = start + ((order[i % Math.max(order.length, 1)] ?? 0) % (i - start + 1))
        ;[pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!]
      }
      return {length, isn, pieces, partition, withSyn}
    })

  for (const seed of [20251122, 7, 424242]) {
    it(`delivers exactly the original bytes (fast-check seed ${seed})`, () => {
      fc.assert(
        fc.property(scenario, ({length, isn, pieces, withSyn}) => {
          const {t, recorders} = tracker()
          let frame = 1
          if (withSyn) {
            push(t, fromClient(frame++, isn, 0, TCP_SYN))
            push(t, fromServer(frame++, 99, (isn + 1) >>> 0, TCP_SYN | TCP_ACK))
          }
          for (const [from, to] of pieces) push(t, fromClient(frame++, (isn + 1 + from) >>> 0, 100, TCP_ACK, SOURCE.subarray(from, to)))
          const conns = t.finish()
          const got = recorders[0]!.bytes.c2s
          expect(got.length).toBe(length)
          expect(Buffer.from(got).equals(Buffer.from(SOURCE.subarray(0, length)))).toBe(true)
          expect(recorders[0]!.gaps).toEqual([])
          expect(conns[0]!.issues).toEqual([])
          expect(conns[0]!.tcp.c2s.deliveredBytes).toBe(length)
        }),
        {seed, numRuns: 60},
      )
    })
  }

  it(`a dropped piece becomes exactly one gap of its size (fast-check seed 99)`, () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({isn, partition}, pick) => {
        if (partition.length < 2) return
        const dropped = partition[pick % partition.length]!
        const {t, recorders} = tracker()
        push(t, fromClient(1, isn, 0, TCP_SYN))
        let frame = 2
        // Each piece of the partition once, last first: everything but the first waits out of order.
        for (const p of partition.slice().reverse()) {
          if (p !== dropped) push(t, fromClient(frame++, (isn + 1 + p[0]) >>> 0, 0, TCP_ACK, SOURCE.subarray(p[0], p[1])))
        }
        t.finish()
        const covered = partition.at(-1)![1]
        const tail = dropped === partition.at(-1)
        // A hole at the very end is indistinguishable from data never sent: no gap.
        expect(recorders[0]!.gaps).toEqual(tail ? [] : [['c2s', dropped[1] - dropped[0]]])
        expect(recorders[0]!.bytes.c2s.length).toBe(covered - (dropped[1] - dropped[0]))
      }),
      {seed: 99, numRuns: 60},
    )
  })
})
