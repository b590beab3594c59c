/**
 * Real traffic: the fixtures/ws captures (node ws client and Python websockets client against
 * the node ws server, ws:// on port 8085) fed segment by segment through
 * WebSocketConnectionReader (HTTP upgrade → WebSocket frames), compared with what tshark
 * dissects from the same capture (test/protocols/websocket/streams.json, written by make-streams.sh).
 */
import {describe, expect, it} from 'vitest'
import {WebSocketConnectionReader} from '../../../src/protocols/websocket/connection.js'
import type {WebSocketFrame} from '../../../src/protocols/websocket/frames.js'
import type {Direction, FrameRef} from '../../../src/stream/types.js'
import {STREAMS, capture, chunks, feed, oneByteAtATime, type Chunk, type TsharkWebSocketFrame} from './streams.js'

interface Seen {
  frame: number
  direction: Direction
  fin: boolean
  rsv: number
  opcode: number
  mask: boolean
  payloadLength: number
}

function read(list: Chunk[], split?: (i: number, length: number) => number[]) {
  const frames: Seen[] = []
  const reader = new WebSocketConnectionReader({
    websocket: {
      onFrame: (direction: Direction, f: WebSocketFrame) =>
        frames.push({frame: f.frame, direction, fin: f.fin, rsv: f.rsv, opcode: f.opcode, mask: f.masked, payloadLength: f.payloadLength}),
    },
  })
  feed(reader, list, split)
  return {frames, facts: reader.facts}
}

const seen = (t: TsharkWebSocketFrame): Seen => ({frame: t.frame, direction: t.direction, fin: t.fin, rsv: t.rsv, opcode: t.opcode, mask: t.mask, payloadLength: t.payloadLength})
const side = (d: Direction) => (d === 'c2s' ? 'client' : 'server')

/** Messages each side sent, from the scenario in fixtures/ws/{cleartext,python-client}/README.md. */
const SCENARIO: Record<string, {c2s: {text: number; binary: number}; s2c: {text: number; binary: number}}> = {
  // client: hello, 70000 B, 300 B, fragmented text, close-1011; server echoes all but the last.
  cleartext: {c2s: {text: 3, binary: 2}, s2c: {text: 2, binary: 2}},
  // client: hello, 70000 B, fragmented text, close-1011; server echoes all but the last.
  'python-client': {c2s: {text: 3, binary: 1}, s2c: {text: 2, binary: 1}},
}

describe('WebSocketConnectionReader on real captures, against tshark -Y websocket', () => {
  for (const streams of STREAMS) {
    const name = streams.capture.split('/')[2]!
    describe(streams.capture, () => {
      const list = chunks(streams)
      const tshark = streams.tshark.websocket
      const tsOf = (frame: number): number => list.find((c) => c.frame === frame)!.ts

      it('sees every frame tshark sees: FIN, RSV, opcode, mask, payload length, frame number', () => {
        const {frames} = read(list)
        expect(frames).toEqual(tshark.map(seen))
      })

      it('has no issue: both peers are conforming implementations', () => {
        const {facts} = read(list)
        expect(facts.http.issues).toEqual([])
        expect(facts.ws!.issues).toEqual([])
        expect(facts.ws!.c2s.lostSync).toBeUndefined()
        expect(facts.ws!.s2c.lostSync).toBeUndefined()
      })

      it('reads both close frames as tshark does: 1011 from the server, echoed by the client', () => {
        const {facts} = read(list)
        const closes = tshark.filter((t) => t.opcode === 8)
        expect(closes.map((t) => [side(t.direction), t.closeCode])).toEqual([['server', 1011], ['client', 1011]])
        for (const t of closes) {
          expect(facts.ws!.close[side(t.direction)]).toEqual({from: side(t.direction), frame: t.frame, ts: tsOf(t.frame), code: t.closeCode, reason: t.closeReason})
        }
        expect(facts.ws!.closedBy).toBe('server')
        expect(facts.ws!.cleanClose).toBe(true)
      })

      it('matches each pong to its ping with the RTT between their packets', () => {
        const {facts} = read(list)
        const pings = tshark.filter((t) => t.opcode === 9)
        expect(pings).toHaveLength(2) // one ping from each side in both scenarios
        expect(facts.ws!.pings).toEqual(
          pings.map((p) => {
            const pong = tshark.find((t) => t.opcode === 10 && t.direction !== p.direction && t.pongHex === p.pingHex)!
            return {
              from: side(p.direction),
              frame: p.frame,
              ts: tsOf(p.frame),
              payloadHex: p.pingHex,
              pong: {frame: pong.frame, ts: tsOf(pong.frame), rttMs: Math.round((tsOf(pong.frame) - tsOf(p.frame)) * 1e6) / 1e3},
            }
          }),
        )
        expect(facts.ws!.c2s.unsolicitedPongs + facts.ws!.s2c.unsolicitedPongs).toBe(0)
      })

      it('counts frames, bytes and messages per direction as tshark\'s frames add up', () => {
        const {facts} = read(list)
        const names = ['continuation', 'text', 'binary', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved', 'close', 'ping', 'pong'] as const
        for (const direction of ['c2s', 's2c'] as const) {
          const mine = tshark.filter((t) => t.direction === direction)
          const f = facts.ws![direction]
          expect(f.frames).toBe(mine.length)
          expect(f.payloadBytes).toBe(mine.reduce((n, t) => n + t.payloadLength, 0))
          for (const opcode of [0, 1, 2, 8, 9, 10]) {
            const of = mine.filter((t) => t.opcode === opcode)
            expect(f.byOpcode[names[opcode]!]).toEqual({frames: of.length, bytes: of.reduce((n, t) => n + t.payloadLength, 0)})
          }
          expect(f.messages).toEqual(SCENARIO[name]![direction])
          expect(f.compressedMessages).toBe(mine.filter((t) => (t.rsv & 4) !== 0 && (t.opcode === 1 || t.opcode === 2)).length)
        }
        expect(facts.ws!.permessageDeflate).toBe(tshark.some((t) => (t.rsv & 4) !== 0))
      })

      it('gives identical results one byte at a time', () => {
        expect(JSON.stringify(read(list, oneByteAtATime))).toBe(JSON.stringify(read(list)))
      })

      it('gives identical results split at every byte boundary', () => {
        const whole = JSON.stringify(read(list))
        // Every boundary of every segment; inside the 32 KiB segments of the 70000-byte messages
        // (cleartext) only their first and last 64 bytes, where the state machine changes state —
        // the rest is one PAYLOAD state (the one-byte-at-a-time run covers it).
        const differing: Array<[number, number]> = []
        list.forEach((c, index) => {
          for (let cut = 1; cut < c.bytes.length; cut++) {
            if (cut > 64 && cut < c.bytes.length - 64) continue
            if (JSON.stringify(read(list, (i) => (i === index ? [cut] : []))) !== whole) differing.push([c.frame, cut])
          }
        })
        expect(differing).toEqual([])
      })
    })
  }

  it('survives a gap inside a payload and stops a direction at a gap across a header', () => {
    const streams = capture('cleartext')
    const list = chunks(streams)
    const tshark = streams.tshark.websocket
    // The server's 70000-byte echo came in three segments; lose the middle one.
    const echo = tshark.find((t) => t.direction === 's2c' && t.payloadLength === 70000)!
    const s2c = list.filter((c) => c.direction === 's2c')
    const end = s2c.findIndex((c) => c.frame === echo.frame)
    const middle = s2c[end - 1]!
    const withGap = (lost: Chunk) => {
      const frames: number[] = []
      const reader = new WebSocketConnectionReader({websocket: {onFrame: (_d, f) => frames.push(f.frame)}})
      for (const c of list) {
        const ref: FrameRef = {frame: c.frame, ts: c.ts}
        if (c === lost) reader.gap(c.direction, c.bytes.length, ref)
        else reader.data(c.direction, c.bytes, ref)
      }
      return {frames, facts: reader.facts.ws!}
    }
    const inPayload = withGap(middle)
    expect(inPayload.frames).toEqual(tshark.map((t) => t.frame))
    expect(inPayload.facts.issues).toEqual([])

    // The server's first frame ("hello console" echo) is a segment of its own: losing it loses the framing.
    const first = list.find((c) => c.direction === 's2c' && c.frame === tshark.find((t) => t.direction === 's2c')!.frame)!
    const atHeader = withGap(first)
    expect(atHeader.facts.issues.map((i) => [i.code, i.frame])).toEqual([['ws.gap', first.frame]])
    expect(atHeader.facts.s2c.lostSync).toEqual({frame: first.frame, ts: first.ts})
    expect(atHeader.frames).toEqual(tshark.filter((t) => t.direction === 'c2s').map((t) => t.frame))
  })

  it('reads both directions\' frames when the capture missed the request', () => {
    const streams = capture('cleartext')
    const request = streams.tshark.http.find((m) => m.kind === 'request')!
    const {frames, facts} = read(chunks(streams).filter((c) => c.frame !== request.frame))
    expect(facts.http.request).toBeUndefined()
    expect(facts.http.response).toMatchObject({status: 101})
    expect(facts.http.response!.acceptValid).toBeUndefined()
    expect(frames).toEqual(streams.tshark.websocket.map(seen))
  })

  it('reports a capture that ends in the middle of the 70000-byte message', () => {
    const streams = capture('cleartext')
    const list = chunks(streams)
    const big = streams.tshark.websocket.find((t) => t.direction === 'c2s' && t.payloadLength === 70000)!
    const cut = list.filter((c) => c.frame < big.frame)
    const reader = new WebSocketConnectionReader()
    feed(reader, cut)
    const last = cut[cut.length - 1]!
    reader.end('both', {frame: last.frame, ts: last.ts})
    expect(reader.facts.ws!.c2s.truncated).toEqual({frame: last.frame, ts: last.ts})
    expect(reader.facts.ws!.issues.map((i) => i.code)).toEqual(['ws.truncated'])
  })
})
