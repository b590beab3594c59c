/**
 * The fixtures/ws captures as test/protocols/websocket/make-streams.sh wrote them: each direction's TCP
 * payload segments with the packet that carried them, and tshark's HTTP and WebSocket dissection
 * of the same capture.
 */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Direction, FrameRef, StreamHandler} from '../../../src/stream/types.js'

export interface Segment extends FrameRef {
  direction: Direction
  hex: string
}

export interface TsharkHttpMessage {
  kind: 'request' | 'response'
  frame: number
  /** Header lines as sent, without the line ending. */
  headers: string[]
  upgrade: string | null
  connection: string | null
  secWebSocketKey: string | null
  secWebSocketVersion: string | null
  secWebSocketAccept: string | null
  secWebSocketExtensions: string | null
  host: string | null
  method?: string
  uri?: string
  version: string
  code?: number
  phrase?: string
}

export interface TsharkWebSocketFrame {
  frame: number
  direction: Direction
  fin: boolean
  rsv: number
  opcode: number
  mask: boolean
  payloadLength: number
  closeCode: number | null
  closeReason: string | null
  pingHex: string | null
  pongHex: string | null
}

export interface CaptureStreams {
  capture: string
  port: number
  segments: Segment[]
  tshark: {http: TsharkHttpMessage[]; websocket: TsharkWebSocketFrame[]}
}

const file = join(dirname(fileURLToPath(import.meta.url)), 'streams.json')
export const STREAMS: CaptureStreams[] = (JSON.parse(readFileSync(file, 'utf8')) as {captures: CaptureStreams[]}).captures

export function capture(name: string): CaptureStreams {
  const found = STREAMS.find((c) => c.capture.includes(`/${name}/`))
  if (!found) throw new Error(`no capture ${name} in streams.json`)
  return found
}

export interface Chunk extends FrameRef {
  direction: Direction
  bytes: Uint8Array
}

export function chunks(streams: CaptureStreams): Chunk[] {
  return streams.segments.map((s) => ({direction: s.direction, frame: s.frame, ts: s.ts, bytes: Buffer.from(s.hex, 'hex')}))
}

/** Feeds chunks in order; `split(i)` lists cut offsets inside chunk i (sorted), to cut it further. */
export function feed(handler: StreamHandler, list: Chunk[], split: (i: number, length: number) => number[] = () => []): void {
  list.forEach((c, i) => {
    let at = 0
    for (const cut of [...split(i, c.bytes.length), c.bytes.length]) {
      handler.data(c.direction, c.bytes.subarray(at, cut), {frame: c.frame, ts: c.ts})
      at = cut
    }
  })
}

/** Cuts every chunk into single bytes. */
export const oneByteAtATime = (_i: number, length: number): number[] => Array.from({length: Math.max(length - 1, 0)}, (_, k) => k + 1)
