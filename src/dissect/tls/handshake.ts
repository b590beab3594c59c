/**
 * Handshake message reassembly for one direction (RFC 8446 §5.1, RFC 5246 §6.2.1): handshake
 * messages {HandshakeType msg_type; uint24 length; body} may span several records, and one record
 * may hold several messages. Fed with the fragments of plaintext handshake records only — the
 * connection reader stops feeding a direction once its records are encrypted.
 *
 * A message complete within one fragment is handed over as a view; a message that spans
 * fragments is copied. The body is valid only during the callback.
 */
import type {FrameRef} from '../../stream/types.js'

const HEADER_LENGTH = 4
export const DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES = 256 * 1024

export interface HandshakeMessage {
  type: number
  body: Uint8Array
  /** The frame that carried the message's last byte. */
  ref: FrameRef
}

export interface HandshakeReaderEvents {
  message(message: HandshakeMessage): void
  /** A message longer than the limit: the reader has stopped. */
  malformed(code: 'tls.handshake-too-large', message: string, ref: FrameRef): void
}

export class HandshakeReader {
  private readonly header = new Uint8Array(HEADER_LENGTH)
  private headerLength = 0
  private body: Uint8Array | undefined
  private bodyLength = 0
  private stoppedFlag = false

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
        const take = Math.min(n - off, this.body.length - this.bodyLength)
        this.body.set(fragment.subarray(off, off + take), this.bodyLength)
        this.bodyLength += take
        off += take
        if (this.bodyLength === this.body.length) {
          const body = this.body
          this.body = undefined
          this.bodyLength = 0
          this.events.message({type: this.header[0]!, body, ref})
        }
        continue
      }
      if (this.headerLength === 0 && n - off >= HEADER_LENGTH) {
        const length = (fragment[off + 1]! << 16) | (fragment[off + 2]! << 8) | fragment[off + 3]!
        this.header[0] = fragment[off]!
        off += HEADER_LENGTH
        if (!this.checkLength(length, ref)) return
        if (n - off >= length) {
          this.events.message({type: this.header[0]!, body: fragment.subarray(off, off + length), ref})
          off += length
        } else {
          this.body = new Uint8Array(length)
        }
        continue
      }
      this.header[this.headerLength++] = fragment[off++]!
      if (this.headerLength < HEADER_LENGTH) continue
      this.headerLength = 0
      const length = (this.header[1]! << 16) | (this.header[2]! << 8) | this.header[3]!
      if (!this.checkLength(length, ref)) return
      if (length === 0) this.events.message({type: this.header[0]!, body: this.header.subarray(HEADER_LENGTH), ref})
      else this.body = new Uint8Array(length)
    }
  }

  private checkLength(length: number, ref: FrameRef): boolean {
    if (length <= this.maxMessageBytes) return true
    this.stop()
    this.events.malformed('tls.handshake-too-large', `handshake message of ${length} bytes exceeds the ${this.maxMessageBytes}-byte limit`, ref)
    return false
  }
}
