/**
 * WebSocketReader: WebSocket frames (RFC 6455 §5) of both directions of one connection, read
 * incrementally. Per direction an explicit state machine in the manner of ws's lib/receiver.js
 * — HEADER (2 bytes) → LENGTH_16 / LENGTH_64 → MASK_KEY → PAYLOAD → HEADER — that keeps only
 * the few header bytes it has so far between chunks, so where chunks split never matters.
 *
 * Payloads are not copied or unmasked except the first maxFramePayload bytes of each frame
 * (default 125: all of a control frame, the head of a data frame), which is what ping/pong
 * matching and the close code and reason need. Every frame and byte is counted.
 *
 * Protocol violations become Issues with stable codes; the reader keeps going while the framing
 * can still be followed (a reserved opcode still has a length), and stops a direction only when
 * it cannot (a gap, a 64-bit length beyond 2^53).
 */
import {countOmitted} from '../../lists.js'
import type {IssueSeverity} from '../../issues.js'
import {senderOf, type Direction, type FrameRef, type Side, type StreamHandler} from '../../stream/types.js'
import type {WebSocketClose, WebSocketDirectionFacts, WebSocketFacts, WebSocketOpcodeName, WebSocketPing} from './types.js'

export const OPCODE_CONTINUATION = 0x0
export const OPCODE_TEXT = 0x1
export const OPCODE_BINARY = 0x2
export const OPCODE_CLOSE = 0x8
export const OPCODE_PING = 0x9
export const OPCODE_PONG = 0xa

export const DEFAULT_MAX_FRAME_PAYLOAD = 125
export const DEFAULT_MAX_PINGS = 1000
/** Unanswered pings remembered per side for matching pongs. */
export const DEFAULT_MAX_PENDING_PINGS = 64
/** Issues recorded per code (every occurrence is counted in issueCounts). */
export const DEFAULT_MAX_ISSUES_PER_CODE = 5

/** One frame, handed to onFrame when its last payload byte is read. */
export interface WebSocketFrame extends FrameRef {
  /** Frame number of the segment holding the frame's first byte. */
  startFrame: number
  fin: boolean
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4). */
  rsv: number
  opcode: number
  masked: boolean
  payloadLength: number
  /** 2, 4 or 10, plus 4 with a mask key. */
  headerLength: number
  /** The first min(payloadLength, maxFramePayload) payload bytes, unmasked. Valid only during the call. */
  payload: Uint8Array
}

export interface WebSocketReaderOptions {
  /** permessage-deflate was negotiated (RFC 7692): RSV1 may be set on a message's first frame. */
  permessageDeflate?: boolean
  /** Payload bytes kept (unmasked) per frame; at least 125 so control frames are whole. Default 125. */
  maxFramePayload?: number
  /** Ping records kept in facts.pings. Default 1000. */
  maxPings?: number
  /** Issues recorded per code. Default 5. */
  maxIssuesPerCode?: number
  /** Every frame, in order per direction. */
  onFrame?(direction: Direction, frame: WebSocketFrame): void
}

const enum State {
  Header,
  Length16,
  Length64,
  MaskKey,
  Payload,
  Stopped,
}

const OPCODE_NAMES: readonly WebSocketOpcodeName[] = [
  'continuation', 'text', 'binary', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved',
  'close', 'ping', 'pong', 'reserved', 'reserved', 'reserved', 'reserved', 'reserved',
]

const utf8 = new TextDecoder('utf-8', {fatal: true})
const utf8Lenient = new TextDecoder('utf-8')

interface PendingPing {
  hex: string
  ref: FrameRef
  record?: WebSocketPing
}

class DirectionReader {
  state = State.Header
  /** Header bytes of the current part (2, 2, 8 or 4) collected so far. */
  readonly part = new Uint8Array(8)
  partLength = 0
  fin = false
  rsv = 0
  opcode = 0
  masked = false
  payloadLength = 0
  headerLength = 0
  remaining = 0
  startFrame = 0
  readonly maskKey = new Uint8Array(4)
  readonly kept: Uint8Array
  keptLength = 0
  /** Part of this payload was never captured: its kept bytes are incomplete. */
  damaged = false
  /** Inside a fragmented data message (its first frame had FIN=0). */
  fragmented = false
  fragmentedOpcode = 0
  /** This side has sent a close frame. */
  closeSent = false
  /** Its pings not yet answered, oldest first. */
  readonly pending: PendingPing[] = []

  constructor(readonly direction: Direction, readonly side: Side, readonly facts: WebSocketDirectionFacts, keep: number) {
    this.kept = new Uint8Array(keep)
  }
}

function directionFacts(): WebSocketDirectionFacts {
  const count = () => ({frames: 0, bytes: 0})
  return {
    frames: 0,
    payloadBytes: 0,
    headerBytes: 0,
    byOpcode: {continuation: count(), text: count(), binary: count(), close: count(), ping: count(), pong: count(), reserved: count()},
    messages: {text: 0, binary: 0},
    compressedMessages: 0,
    unsolicitedPongs: 0,
  }
}

export class WebSocketReader implements StreamHandler {
  readonly facts: WebSocketFacts
  private readonly c2s: DirectionReader
  private readonly s2c: DirectionReader
  private readonly maxPings: number
  private readonly maxIssuesPerCode: number
  private readonly onFrame?: (direction: Direction, frame: WebSocketFrame) => void

  constructor(options: WebSocketReaderOptions = {}) {
    const keep = Math.max(options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD, 125)
    this.maxPings = options.maxPings ?? DEFAULT_MAX_PINGS
    this.maxIssuesPerCode = options.maxIssuesPerCode ?? DEFAULT_MAX_ISSUES_PER_CODE
    this.onFrame = options.onFrame
    this.facts = {
      c2s: directionFacts(),
      s2c: directionFacts(),
      permessageDeflate: options.permessageDeflate ?? false,
      pings: [],
      pingCount: 0,
      close: {},
      cleanClose: false,
      issues: [],
      issueCounts: {},
    }
    this.c2s = new DirectionReader('c2s', 'client', this.facts.c2s, keep)
    this.s2c = new DirectionReader('s2c', 'server', this.facts.s2c, keep)
  }

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    const d = direction === 'c2s' ? this.c2s : this.s2c
    const n = bytes.length
    let i = 0
    while (i < n) {
      switch (d.state) {
        case State.Header:
          if (d.partLength === 0) d.startFrame = ref.frame
          d.part[d.partLength++] = bytes[i++]!
          if (d.partLength === 2) this.header(d, ref)
          break
        case State.Length16:
          d.part[d.partLength++] = bytes[i++]!
          if (d.partLength === 2) this.length16(d, ref)
          break
        case State.Length64:
          d.part[d.partLength++] = bytes[i++]!
          if (d.partLength === 8) this.length64(d, ref)
          break
        case State.MaskKey:
          d.maskKey[d.partLength++] = bytes[i++]!
          if (d.partLength === 4) this.payloadStart(d, ref)
          break
        case State.Payload: {
          const take = Math.min(d.remaining, n - i)
          const room = d.damaged ? 0 : d.kept.length - d.keptLength
          if (room > 0) this.keep(d, bytes, i, Math.min(take, room))
          d.remaining -= take
          i += take
          if (d.remaining === 0) this.frameEnd(d, ref)
          break
        }
        case State.Stopped:
          return
      }
    }
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    const d = direction === 'c2s' ? this.c2s : this.s2c
    if (d.state === State.Stopped) return
    if (d.state === State.Payload && size < d.remaining) {
      // The hole is inside a payload: the framing survives, only kept bytes would be wrong.
      d.remaining -= size
      d.damaged = true
      return
    }
    this.issue('ws.gap', 'warn', `${size} bytes of the ${senderOf(direction)}'s frames were not captured; stopped reading them`, ref)
    this.stop(d, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    for (const d of direction === 'both' ? [this.c2s, this.s2c] : [direction === 'c2s' ? this.c2s : this.s2c]) {
      const inFrame = d.state === State.Payload || (d.state !== State.Stopped && (d.state !== State.Header || d.partLength > 0))
      if (inFrame) {
        d.facts.truncated = {frame: ref.frame, ts: ref.ts}
        this.issue('ws.truncated', 'info', `the ${d.side}'s frames ended inside a frame`, ref)
        d.state = State.Stopped
      }
    }
  }

  /** First two header bytes: FIN, RSV, opcode, MASK, 7-bit length (RFC 6455 §5.2). */
  private header(d: DirectionReader, ref: FrameRef): void {
    const b0 = d.part[0]!
    const b1 = d.part[1]!
    d.fin = (b0 & 0x80) !== 0
    d.rsv = (b0 >> 4) & 0x7
    d.opcode = b0 & 0x0f
    d.masked = (b1 & 0x80) !== 0
    const len7 = b1 & 0x7f
    d.headerLength = 2
    d.partLength = 0
    const control = d.opcode >= 0x8
    const side = d.side

    if (OPCODE_NAMES[d.opcode] === 'reserved') {
      this.issue('ws.reserved-opcode', 'error', `${side} sent reserved opcode 0x${d.opcode.toString(16)} (RFC 6455 §5.2)`, ref)
    }
    if ((d.rsv & 0x3) !== 0) {
      this.issue('ws.rsv-bits', 'error', `${side} set RSV2/RSV3, which no negotiated extension defines (RFC 6455 §5.2)`, ref)
    }
    if ((d.rsv & 0x4) !== 0) {
      if (!this.facts.permessageDeflate) {
        this.issue('ws.rsv-bits', 'error', `${side} set RSV1 without permessage-deflate negotiated (RFC 6455 §5.2)`, ref)
      } else if (control || d.opcode === OPCODE_CONTINUATION) {
        this.issue('ws.rsv1-misplaced', 'error', `${side} set RSV1 on a ${OPCODE_NAMES[d.opcode]} frame; only a message's first frame may carry it (RFC 7692 §6.1)`, ref)
      }
    }
    // RFC 6455 §5.1/§5.3: a client masks every frame, a server never does.
    if (d.direction === 'c2s' && !d.masked) {
      this.issue('ws.client-frame-unmasked', 'error', 'client sent an unmasked frame (RFC 6455 §5.1)', ref)
    } else if (d.direction === 's2c' && d.masked) {
      this.issue('ws.server-frame-masked', 'error', 'server sent a masked frame (RFC 6455 §5.1)', ref)
    }
    if (control) {
      // RFC 6455 §5.5: control frames carry ≤125 bytes and are never fragmented.
      if (len7 > 125) this.issue('ws.control-too-long', 'error', `${side} sent a ${OPCODE_NAMES[d.opcode]} frame with a payload over 125 bytes (RFC 6455 §5.5)`, ref)
      if (!d.fin) this.issue('ws.control-fragmented', 'error', `${side} sent a fragmented ${OPCODE_NAMES[d.opcode]} frame (RFC 6455 §5.5)`, ref)
    } else if (d.opcode === OPCODE_CONTINUATION) {
      if (!d.fragmented) this.issue('ws.continuation-without-start', 'error', `${side} sent a continuation frame outside a fragmented message (RFC 6455 §5.4)`, ref)
    } else if (d.opcode === OPCODE_TEXT || d.opcode === OPCODE_BINARY) {
      if (d.fragmented) this.issue('ws.interleaved-data-frame', 'error', `${side} started a new ${OPCODE_NAMES[d.opcode]} message before finishing a fragmented one (RFC 6455 §5.4)`, ref)
    }
    if (d.closeSent) {
      this.issue('ws.frame-after-close', 'warn', `${side} sent a ${OPCODE_NAMES[d.opcode]} frame after its close frame (RFC 6455 §5.5.1)`, ref)
    }

    if (len7 === 126) {
      d.state = State.Length16
    } else if (len7 === 127) {
      d.state = State.Length64
    } else {
      d.payloadLength = len7
      this.lengthKnown(d, ref)
    }
  }

  private length16(d: DirectionReader, ref: FrameRef): void {
    d.payloadLength = (d.part[0]! << 8) | d.part[1]!
    d.headerLength += 2
    d.partLength = 0
    if (d.payloadLength < 126) {
      this.issue('ws.length-not-minimal', 'warn', `${d.side} encoded length ${d.payloadLength} in 16 bits (RFC 6455 §5.2: minimal encoding)`, ref)
    }
    this.lengthKnown(d, ref)
  }

  private length64(d: DirectionReader, ref: FrameRef): void {
    const p = d.part
    const high = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0
    const low = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0
    d.headerLength += 8
    d.partLength = 0
    if (high >= 0x80000000) {
      this.issue('ws.length-msb-set', 'error', `${d.side} sent a 64-bit length with its most significant bit set (RFC 6455 §5.2); stopped reading its frames`, ref)
      this.stop(d, ref)
      return
    }
    if (high >= 0x200000) {
      // Beyond 2^53 bytes: no capture holds such a frame; the framing cannot be followed.
      this.issue('ws.length-too-large', 'error', `${d.side} sent a frame length of 2^${Math.floor(Math.log2(high)) + 32} bytes or more; stopped reading its frames`, ref)
      this.stop(d, ref)
      return
    }
    d.payloadLength = high * 0x100000000 + low
    if (d.payloadLength <= 0xffff) {
      this.issue('ws.length-not-minimal', 'warn', `${d.side} encoded length ${d.payloadLength} in 64 bits (RFC 6455 §5.2: minimal encoding)`, ref)
    }
    this.lengthKnown(d, ref)
  }

  private lengthKnown(d: DirectionReader, ref: FrameRef): void {
    if (d.masked) {
      d.state = State.MaskKey
    } else {
      this.payloadStart(d, ref)
    }
  }

  private payloadStart(d: DirectionReader, ref: FrameRef): void {
    if (d.masked) d.headerLength += 4
    d.partLength = 0
    d.remaining = d.payloadLength
    d.keptLength = 0
    d.damaged = false
    d.state = State.Payload
    if (d.remaining === 0) this.frameEnd(d, ref)
  }

  /** Copies and unmasks payload bytes [at, at+count) of this chunk into the kept head. */
  private keep(d: DirectionReader, bytes: Uint8Array, at: number, count: number): void {
    const offset = d.payloadLength - d.remaining // payload offset of bytes[at]
    const kept = d.kept
    let k = d.keptLength
    if (d.masked) {
      const key = d.maskKey
      for (let j = 0; j < count; j++) kept[k++] = bytes[at + j]! ^ key[(offset + j) & 3]!
    } else {
      kept.set(bytes.subarray(at, at + count), k)
      k += count
    }
    d.keptLength = k
  }

  private frameEnd(d: DirectionReader, ref: FrameRef): void {
    const f = d.facts
    const name = OPCODE_NAMES[d.opcode]!
    f.frames++
    f.payloadBytes += d.payloadLength
    f.headerBytes += d.headerLength
    f.byOpcode[name].frames++
    f.byOpcode[name].bytes += d.payloadLength
    const payload = d.kept.subarray(0, d.keptLength)
    const whole = !d.damaged && payload.length === d.payloadLength

    switch (d.opcode) {
      case OPCODE_TEXT:
      case OPCODE_BINARY:
        if ((d.rsv & 0x4) !== 0 && this.facts.permessageDeflate) f.compressedMessages++
        d.fragmented = !d.fin
        d.fragmentedOpcode = d.opcode
        if (d.fin) this.messageDone(d, d.opcode)
        break
      case OPCODE_CONTINUATION:
        if (d.fin && d.fragmented) this.messageDone(d, d.fragmentedOpcode)
        if (d.fin) d.fragmented = false
        break
      case OPCODE_CLOSE:
        if (whole) this.close(d, payload, ref)
        break
      case OPCODE_PING:
        if (whole) this.ping(d, payload, ref)
        break
      case OPCODE_PONG:
        if (whole) this.pong(d, payload, ref)
        break
    }

    if (this.onFrame) {
      this.onFrame(d.direction, {
        frame: ref.frame,
        ts: ref.ts,
        startFrame: d.startFrame,
        fin: d.fin,
        rsv: d.rsv,
        opcode: d.opcode,
        masked: d.masked,
        payloadLength: d.payloadLength,
        headerLength: d.headerLength,
        payload,
      })
    }
    d.state = State.Header
    d.partLength = 0
  }

  private messageDone(d: DirectionReader, opcode: number): void {
    if (opcode === OPCODE_TEXT) d.facts.messages.text++
    else d.facts.messages.binary++
  }

  /** Close body (RFC 6455 §5.5.1): empty, or a 2-byte code then a UTF-8 reason. */
  private close(d: DirectionReader, payload: Uint8Array, ref: FrameRef): void {
    let code: number | undefined
    let reason: string | undefined
    if (payload.length === 1) {
      this.issue('ws.close-malformed', 'error', `${d.side} sent a 1-byte close body; a body starts with a 2-byte code (RFC 6455 §5.5.1)`, ref)
    } else if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!
      if (code === 1005 || code === 1006 || code === 1015) {
        this.issue('ws.close-code-reserved', 'error', `${d.side} sent close code ${code}, which must never be on the wire (RFC 6455 §7.4.1)`, ref)
      } else if (!validCloseCode(code)) {
        this.issue('ws.close-code-invalid', 'error', `${d.side} sent close code ${code}, outside the codes RFC 6455 §7.4 allows`, ref)
      }
      const text = payload.subarray(2)
      try {
        reason = utf8.decode(text)
      } catch {
        reason = utf8Lenient.decode(text)
        this.issue('ws.close-reason-not-utf8', 'error', `${d.side}'s close reason is not valid UTF-8 (RFC 6455 §5.5.1)`, ref)
      }
    }
    if (d.closeSent) return
    d.closeSent = true
    const close: WebSocketClose = {from: d.side, frame: ref.frame, ts: ref.ts}
    if (code !== undefined) close.code = code
    if (reason !== undefined) close.reason = reason
    this.facts.close[d.side] = close
    this.facts.closedBy ??= d.side
    this.facts.cleanClose = this.facts.close.client !== undefined && this.facts.close.server !== undefined
  }

  private ping(d: DirectionReader, payload: Uint8Array, ref: FrameRef): void {
    const hex = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('hex')
    this.facts.pingCount++
    let record: WebSocketPing | undefined
    if (this.facts.pings.length < this.maxPings) {
      record = {from: d.side, frame: ref.frame, ts: ref.ts, payloadHex: hex}
      this.facts.pings.push(record)
    } else countOmitted(this.facts, 'pings', 1)
    if (d.pending.length === DEFAULT_MAX_PENDING_PINGS) d.pending.shift()
    d.pending.push({hex, ref: {frame: ref.frame, ts: ref.ts}, record})
  }

  /** A pong answers a ping of the other side with the same application data (RFC 6455 §5.5.3). */
  private pong(d: DirectionReader, payload: Uint8Array, ref: FrameRef): void {
    const hex = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('hex')
    const other = d === this.c2s ? this.s2c : this.c2s
    const at = other.pending.findIndex((p) => p.hex === hex)
    if (at < 0) {
      d.facts.unsolicitedPongs++
      return
    }
    const [ping] = other.pending.splice(at, 1)
    if (ping!.record) {
      ping!.record.pong = {frame: ref.frame, ts: ref.ts, rttMs: Math.round((ref.ts - ping!.ref.ts) * 1e6) / 1e3}
    }
  }

  private stop(d: DirectionReader, ref: FrameRef): void {
    d.state = State.Stopped
    d.facts.lostSync = {frame: ref.frame, ts: ref.ts}
  }

  private issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void {
    const seen = (this.facts.issueCounts[code] ?? 0) + 1
    this.facts.issueCounts[code] = seen
    if (seen <= this.maxIssuesPerCode) this.facts.issues.push({code, severity, message, frame: ref.frame})
  }
}

/**
 * Close codes an endpoint may send (RFC 6455 §7.4.1–7.4.2): 1000–1003, 1007–1011 (1004 is
 * reserved), 1012–1014 registered since in the IANA "WebSocket Close Code Number Registry",
 * 3000–3999 registered by libraries and frameworks, 4000–4999 private use. The same set as
 * ws's isValidStatusCode.
 */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
}
