/**
 * WebSocket facts: what WebSocketReader learns from the frames of both directions after the
 * upgrade (RFC 6455 §5). Counts cover every frame; payload bytes are kept only for control
 * frames (ping/pong matching, close code and reason).
 */
import type {HoldsCappedLists} from '../../lists.js'
import type {Issue} from '../../issues.js'
import type {FrameRef, Side} from '../../stream/types.js'

export type WebSocketOpcodeName = 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong' | 'reserved'

export interface WebSocketOpcodeCount {
  frames: number
  /** Payload bytes as on the wire (compressed when permessage-deflate is in use). */
  bytes: number
}

export interface WebSocketDirectionFacts {
  frames: number
  payloadBytes: number
  /** Frame header bytes (2–14 per frame). */
  headerBytes: number
  byOpcode: Record<WebSocketOpcodeName, WebSocketOpcodeCount>
  /** Complete data messages (a FIN frame ending a text/binary message). */
  messages: {text: number; binary: number}
  /** Messages whose first frame had RSV1 (permessage-deflate, RFC 7692 §6). */
  compressedMessages: number
  /** Pongs that answered no ping of the other side (RFC 6455 §5.5.3 allows them as heartbeats). */
  unsolicitedPongs: number
  /** Reading stopped here (a gap in the stream, or a length that cannot be followed). */
  lostSync?: FrameRef
  /** The stream ended in the middle of a frame. */
  truncated?: FrameRef
}

export interface WebSocketPong extends FrameRef {
  /** pong.ts - ping.ts, in ms, at the capture point. */
  rttMs: number
}

/** A ping (frame/ts = the segment that completed it) and the pong of the other side answering it. */
export interface WebSocketPing extends FrameRef {
  from: Side
  /** Application data (≤125 bytes), unmasked, hex. */
  payloadHex: string
  pong?: WebSocketPong
}

export interface WebSocketClose extends FrameRef {
  from: Side
  /** Absent when the close frame had no body (RFC 6455 §7.1.5: then 1005 is reported locally). */
  code?: number
  /** UTF-8 reason (invalid sequences replaced by U+FFFD and an issue raised). */
  reason?: string
}

/** `truncated.pings` counts pings past the pings list's cap (pingCount has them all). */
export interface WebSocketFacts extends HoldsCappedLists {
  c2s: WebSocketDirectionFacts
  s2c: WebSocketDirectionFacts
  /** RSV1 frames are allowed (permessage-deflate negotiated). */
  permessageDeflate: boolean
  /** Pings of both sides in order (at most maxPings kept); `pingCount` counts all. */
  pings: WebSocketPing[]
  pingCount: number
  /** The first close frame each side sent. */
  close: {client?: WebSocketClose; server?: WebSocketClose}
  /** The side whose close frame came first. */
  closedBy?: Side
  /** Both sides sent a close frame (RFC 6455 §7.1.2 closing handshake). */
  cleanClose: boolean
  /** Issues, each code at most a few times; `issueCounts` counts every occurrence. */
  issues: Issue[]
  issueCounts: Record<string, number>
}
