/**
 * Incremental TLS record reader for one direction (RFC 8446 §5.1, RFC 5246 §6.2.1):
 * 5-byte header {ContentType type; ProtocolVersion legacy_record_version; uint16 length} and
 * `length` bytes of fragment. A state machine: where the chunks split does not matter.
 *
 * - "Need more data" (a header or fragment not complete yet) is the normal waiting state;
 *   `pendingBytes` says how much is held.
 * - Malformed (a record longer than the TLSCiphertext limit, a content type or version that no
 *   TLS record has) stops the direction: after a bad header nothing can be framed again.
 * - A first byte that is no TLS content type means the stream is not TLS at all (plaintext
 *   HTTP on the port, SSH...): `notTls` keeps the first bytes as evidence.
 *
 * A record complete within one chunk is handed over as a view of that chunk; only a record
 * that spans chunks is copied. The fragment, and the TlsRecord object itself (one per reader,
 * refilled for every record), are valid only during the callback.
 */
import type {FrameRef} from '../../stream/types.js'

/** RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256. */
export const MAX_RECORD_LENGTH = 16384 + 256
const HEADER_LENGTH = 5
const NO_FRAGMENT = new Uint8Array(0)
const NO_REF: FrameRef = {frame: 0, ts: 0}
/** How many leading bytes of a non-TLS stream are kept as evidence. */
export const NOT_TLS_PREFIX = 16

/** Valid only during RecordReaderEvents.record(): the reader refills the same object for the next. */
export interface TlsRecord {
  contentType: number
  version: number
  /**
   * View of the fragment, valid only during the callback; empty when the events declined it
   * (wantsFragment), `length` then being all there is.
   */
  fragment: Uint8Array
  /** The fragment's length on the wire. */
  length: number
  /** The frame that carried the record's LAST byte: the record exists from that frame on. */
  ref: FrameRef
}

export interface RecordReaderEvents {
  record(record: TlsRecord): void
  /**
   * Asked when a record that spans chunks begins: false when only its length matters (an
   * encrypted record that cannot be decrypted), so its bytes are counted, not copied.
   */
  wantsFragment?(contentType: number): boolean
  /** Malformed input: the reader has stopped. */
  malformed(code: 'tls.record-too-large' | 'tls.bad-content-type' | 'tls.bad-record-version', message: string, ref: FrameRef): void
}

export interface NotTls {
  ref: FrameRef
  /** The first bytes of the direction (up to NOT_TLS_PREFIX). */
  firstBytes: Uint8Array
}

function isContentType(b: number): boolean {
  return b >= 20 && b <= 24
}

export class TlsRecordReader {
  /** Type and version of the record being read. */
  private contentType = 0
  private version = 0
  /**
   * A header split across chunks, gathered byte by byte: made the first time one is (most
   * streams never split a header, and a reader per direction per connection adds up).
   */
  private header: Uint8Array | undefined = undefined
  private headerLength = 0
  /** Fragment being filled when a record spans chunks. */
  private body: Uint8Array | undefined
  private bodyLength = 0
  /** Bytes still to pass over of a spanning record whose fragment was declined (wantsFragment). */
  private skipRemaining = 0
  private skipLength = 0
  private stoppedFlag = false
  private recordsSeen = 0
  private notTlsState: {ref: FrameRef; bytes: Uint8Array; length: number} | undefined
  /** The record handed to events.record(): one object, refilled for every record. */
  private readonly current: TlsRecord = {contentType: 0, version: 0, fragment: NO_FRAGMENT, length: 0, ref: NO_REF}

  constructor(private readonly events: RecordReaderEvents) {}

  /** Parsing has stopped (malformed, not TLS, or stop() after a gap). */
  get stopped(): boolean {
    return this.stoppedFlag
  }

  /** Bytes held for a record that is not complete yet (need more data). */
  get pendingBytes(): number {
    if (this.skipRemaining > 0) return HEADER_LENGTH + this.skipLength - this.skipRemaining
    return this.body === undefined ? this.headerLength : HEADER_LENGTH + this.bodyLength
  }

  get notTls(): NotTls | undefined {
    const s = this.notTlsState
    return s && {ref: s.ref, firstBytes: s.bytes.subarray(0, s.length)}
  }

  /** Stop parsing this direction (e.g. after a TCP gap: the stream cannot be framed again). */
  stop(): void {
    this.stoppedFlag = true
    this.body = undefined
    this.headerLength = 0
    this.bodyLength = 0
    this.skipRemaining = 0
  }

  push(bytes: Uint8Array, ref: FrameRef): void {
    if (this.stoppedFlag) {
      this.collectNotTls(bytes, 0)
      return
    }
    const n = bytes.length
    let off = 0
    while (off < n) {
      if (this.skipRemaining > 0) {
        const take = Math.min(n - off, this.skipRemaining)
        this.skipRemaining -= take
        off += take
        if (this.skipRemaining === 0) this.emitLength(this.skipLength, ref)
        continue
      }
      if (this.body !== undefined) {
        // Filling a fragment that spans chunks.
        const take = Math.min(n - off, this.body.length - this.bodyLength)
        this.body.set(bytes.subarray(off, off + take), this.bodyLength)
        this.bodyLength += take
        off += take
        if (this.bodyLength === this.body.length) {
          const fragment = this.body
          this.body = undefined
          this.bodyLength = 0
          this.emit(fragment, ref)
        }
        continue
      }
      if (this.headerLength === 0 && n - off >= HEADER_LENGTH) {
        // Fast path: the header is inside this chunk.
        if (!this.checkHeader(bytes, off, ref)) {
          this.collectNotTls(bytes, off)
          return
        }
        const length = (bytes[off + 3]! << 8) | bytes[off + 4]!
        this.contentType = bytes[off]!
        this.version = (bytes[off + 1]! << 8) | bytes[off + 2]!
        off += HEADER_LENGTH
        if (n - off >= length) {
          this.emit(bytes.subarray(off, off + length), ref)
          off += length
        } else {
          this.startBody(length)
        }
        continue
      }
      // Header split across chunks: gather it byte by byte (at most 5).
      const header = (this.header ??= new Uint8Array(HEADER_LENGTH))
      header[this.headerLength++] = bytes[off++]!
      if (this.headerLength < HEADER_LENGTH) {
        if (!this.checkPartialHeader(header, ref)) {
          this.collectNotTls(header.subarray(0, this.headerLength), 0)
          this.collectNotTls(bytes, off)
          // Stopped: the gathered bytes are evidence now, not a header waiting for more data.
          this.headerLength = 0
          return
        }
        continue
      }
      this.headerLength = 0
      if (!this.checkHeader(header, 0, ref)) {
        this.collectNotTls(header, 0)
        this.collectNotTls(bytes, off)
        return
      }
      this.contentType = header[0]!
      this.version = (header[1]! << 8) | header[2]!
      const length = (header[3]! << 8) | header[4]!
      if (length === 0) this.emit(NO_FRAGMENT, ref)
      else this.startBody(length)
    }
  }

  /** A record of `length` bytes continues past this chunk: gather its bytes, or count them. */
  private startBody(length: number): void {
    if (this.events.wantsFragment?.(this.contentType) === false) {
      this.skipRemaining = length
      this.skipLength = length
    } else {
      this.body = new Uint8Array(length)
    }
  }

  private emit(fragment: Uint8Array, ref: FrameRef): void {
    this.emitRecord(fragment, fragment.length, ref)
  }

  /** A record whose fragment was declined: its header and length only. */
  private emitLength(length: number, ref: FrameRef): void {
    this.emitRecord(NO_FRAGMENT, length, ref)
  }

  private emitRecord(fragment: Uint8Array, length: number, ref: FrameRef): void {
    this.recordsSeen++
    const record = this.current
    record.contentType = this.contentType
    record.version = this.version
    record.fragment = fragment
    record.length = length
    record.ref = ref
    this.events.record(record)
    record.fragment = NO_FRAGMENT
    record.ref = NO_REF
  }

  /** Checks the bytes of a header gathered so far (content type, version major). */
  private checkPartialHeader(header: Uint8Array, ref: FrameRef): boolean {
    if (this.headerLength >= 1 && !this.checkType(header[0]!, ref)) return false
    if (this.headerLength >= 2 && !this.checkVersionMajor(header[1]!, ref)) return false
    return true
  }

  private checkHeader(h: Uint8Array, at: number, ref: FrameRef): boolean {
    if (!this.checkType(h[at]!, ref) || !this.checkVersionMajor(h[at + 1]!, ref)) return false
    const length = (h[at + 3]! << 8) | h[at + 4]!
    if (length > MAX_RECORD_LENGTH) {
      this.fail('tls.record-too-large', `record of ${length} bytes exceeds 2^14+256 (RFC 8446 §5.2)`, ref)
      return false
    }
    return true
  }

  private checkType(b: number, ref: FrameRef): boolean {
    if (isContentType(b)) return true
    if (this.recordsSeen === 0) {
      this.notTlsState = {ref, bytes: new Uint8Array(NOT_TLS_PREFIX), length: 0}
      this.stoppedFlag = true
    } else {
      this.fail('tls.bad-content-type', `record content type ${b} is not a TLS content type (20..24)`, ref)
    }
    return false
  }

  /** Every TLS and SSL 3.0 record carries 0x03 as the version's major byte (RFC 8446 §5.1). */
  private checkVersionMajor(b: number, ref: FrameRef): boolean {
    if (b === 0x03) return true
    if (this.recordsSeen === 0) {
      this.notTlsState = {ref, bytes: new Uint8Array(NOT_TLS_PREFIX), length: 0}
      this.stoppedFlag = true
    } else {
      this.fail('tls.bad-record-version', `record version major byte 0x${b.toString(16).padStart(2, '0')} (TLS records carry 0x03)`, ref)
    }
    return false
  }

  private fail(code: 'tls.record-too-large' | 'tls.bad-content-type' | 'tls.bad-record-version', message: string, ref: FrameRef): void {
    this.stop()
    this.events.malformed(code, message, ref)
  }

  private collectNotTls(bytes: Uint8Array, from: number): void {
    const s = this.notTlsState
    if (!s || s.length >= NOT_TLS_PREFIX) return
    const take = Math.min(NOT_TLS_PREFIX - s.length, bytes.length - from)
    if (take <= 0) return
    s.bytes.set(bytes.subarray(from, from + take), s.length)
    s.length += take
  }
}
