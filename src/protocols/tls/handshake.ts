/**
 * Handshake message reassembly for one direction (RFC 8446 §5.1, RFC 5246 §6.2.1): handshake
 * messages {HandshakeType msg_type; uint24 length; body} may span several records, and one record
 * may hold several messages. Fed with the fragments of plaintext handshake records only — the
 * connection reader stops feeding a direction once its records are encrypted.
 *
 * A message complete within one fragment is handed over as a view; a message that spans
 * fragments is copied. The body, and the HandshakeMessage object itself (one per reader, refilled
 * for every message), are valid only during the callback.
 */
import type {FrameRef} from '../../stream/types.js'
import {HANDSHAKE_TYPES} from './iana/handshake-types.js'
import {nameOf} from './iana/table.js'

const HEADER_LENGTH = 4
import {DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES} from '../../limits.js'
/** A spanning message's buffer starts at this size (or its length, when smaller) and doubles. */
const INITIAL_BODY_BYTES = 16 * 1024
const EMPTY = new Uint8Array(0)
const NO_REF: FrameRef = {frame: 0, ts: 0}

/** Valid only during HandshakeReaderEvents.message(): the reader refills the same object for the next. */
export interface HandshakeMessage {
  type: number
  body: Uint8Array
  /** The frame that carried the message's last byte. */
  ref: FrameRef
}

/** A message the reader refused for its length. */
export interface OversizedHandshake {
  type: number
  /** The length its header announced. */
  length: number
  limit: number
}

export interface HandshakeReaderEvents {
  message(message: HandshakeMessage): void
  /** A message longer than the limit: the reader has stopped. */
  malformed(code: 'tls.handshake-too-large', message: string, ref: FrameRef, oversized: OversizedHandshake): void
}

export class HandshakeReader {
  /** The message type, and the header bytes gathered so far when it is split across fragments. */
  private type = 0
  private headerLength = 0
  /** The 24-bit length as its bytes arrive (split header). */
  private partialLength = 0
  /** The spanning message's bytes so far: grown as they arrive, up to bodyExpected. */
  private body: Uint8Array | undefined
  private bodyLength = 0
  private bodyExpected = 0
  private stoppedFlag = false
  /** Handed to events.message(): one object, refilled for every message. */
  private readonly current: HandshakeMessage = {type: 0, body: EMPTY, ref: NO_REF}

  constructor(
    private readonly events: HandshakeReaderEvents,
    private readonly maxMessageBytes = DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag
  }

  /** Bytes held for a message that is not complete yet. */
  get pendingBytes(): number {
    return this.body === undefined ? this.headerLength : HEADER_LENGTH + this.bodyLength
  }

  stop(): void {
    this.stoppedFlag = true
    this.body = undefined
    this.headerLength = 0
    this.bodyLength = 0
  }

  push(fragment: Uint8Array, ref: FrameRef): void {
    const n = fragment.length
    let off = 0
    while (off < n && !this.stoppedFlag) {
      if (this.body !== undefined) {
        const take = Math.min(n - off, this.bodyExpected - this.bodyLength)
        if (this.bodyLength + take > this.body.length) this.grow(this.bodyLength + take)
        this.body.set(fragment.subarray(off, off + take), this.bodyLength)
        this.bodyLength += take
        off += take
        if (this.bodyLength === this.bodyExpected) {
          const body = this.body
          this.body = undefined
          this.bodyLength = 0
          this.emit(body, ref)
        }
        continue
      }
      if (this.headerLength === 0 && n - off >= HEADER_LENGTH) {
        const length = (fragment[off + 1]! << 16) | (fragment[off + 2]! << 8) | fragment[off + 3]!
        this.type = fragment[off]!
        off += HEADER_LENGTH
        if (!this.checkLength(length, ref)) return
        if (n - off >= length) {
          this.emit(fragment.subarray(off, off + length), ref)
          off += length
        } else {
          this.startBody(length)
        }
        continue
      }
      // Header split across fragments: its type, then the three length bytes.
      const byte = fragment[off++]!
      if (this.headerLength++ === 0) {
        this.type = byte
        this.partialLength = 0
      } else {
        this.partialLength = (this.partialLength << 8) | byte
      }
      if (this.headerLength < HEADER_LENGTH) continue
      this.headerLength = 0
      const length = this.partialLength
      if (!this.checkLength(length, ref)) return
      if (length === 0) this.emit(EMPTY, ref)
      else this.startBody(length)
    }
  }

  private startBody(length: number): void {
    this.body = new Uint8Array(Math.min(length, INITIAL_BODY_BYTES))
    this.bodyExpected = length
  }

  /** Doubles the body buffer (at most to the announced length) until `needed` bytes fit. */
  private grow(needed: number): void {
    let size = this.body!.length
    while (size < needed) size *= 2
    const bigger = new Uint8Array(Math.min(size, this.bodyExpected))
    bigger.set(this.body!.subarray(0, this.bodyLength))
    this.body = bigger
  }

  private emit(body: Uint8Array, ref: FrameRef): void {
    const message = this.current
    message.type = this.type
    message.body = body
    message.ref = ref
    this.events.message(message)
    message.body = EMPTY
    message.ref = NO_REF
  }

  private checkLength(length: number, ref: FrameRef): boolean {
    if (length <= this.maxMessageBytes) return true
    this.stop()
    const limit = this.maxMessageBytes
    this.events.malformed('tls.handshake-too-large', `${nameOf(HANDSHAKE_TYPES, this.type)} message of ${length} bytes exceeds the ${limit}-byte limit (maxHandshakeMessageBytes): this direction's handshake is not read further`, ref, {type: this.type, length, limit})
    return false
  }
}
