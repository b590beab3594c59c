/**
 * Chunk-independent record framing shared by the pcap and pcapng readers.
 *
 * Both formats are a sequence of length-prefixed records (pcap: 16-byte record header with the
 * captured length; pcapng: 12 bytes of block type, total length and the first body word).
 * This class owns the one piece of state that depends on where chunks split: a record that
 * begins in one chunk and ends in a later one. Records that lie inside one chunk are handed to
 * `record()` as a view of that chunk (no copy); a record that spans chunks is assembled into a
 * fresh buffer of exactly its length. Lengths are validated as soon as the header bytes are
 * present, so a corrupt length is reported at once instead of after buffering megabytes.
 *
 * The caller may reuse a chunk's memory after push() returns: leftover bytes are copied.
 */
import type {CaptureSummary} from './types.js'

export type TruncatedTail = NonNullable<CaptureSummary['truncatedTail']>

export abstract class RecordReader {
  /** File offset of the first byte of the record being framed (every earlier byte was consumed). */
  protected offset = 0
  /** Bytes needed before `recordLength()` can be called; subclasses may change it between records. */
  protected headerBytes: number

  /** Partial record carried over from earlier chunks: the header scratch, then the full record. */
  private readonly headerScratch: Uint8Array
  private pending: Uint8Array
  private pendingFilled = 0
  /** Full length of the pending record, 0 while its header is still incomplete. */
  private pendingLength = 0

  protected constructor(headerBytes: number, maxHeaderBytes: number) {
    this.headerBytes = headerBytes
    this.headerScratch = new Uint8Array(maxHeaderBytes)
    this.pending = this.headerScratch
  }

  /**
   * Total length of the record at `off`; only its first `headerBytes` bytes are guaranteed to be
   * present. Throws CaptureFormatError (at `this.offset`) when the length is invalid.
   */
  protected abstract recordLength(view: DataView, off: number): number

  /** Decodes one complete record of `length` bytes at `off`; `this.offset` is its file offset. */
  protected abstract record(buf: Uint8Array, view: DataView, off: number, length: number): void

  push(chunk: Uint8Array): void {
    let pos = 0
    if (this.pendingFilled > 0) {
      pos = this.continuePending(chunk)
      if (pos === chunk.length) return
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const end = chunk.length
    while (end - pos >= this.headerBytes) {
      const length = this.recordLength(view, pos)
      if (end - pos < length) {
        this.startPending(chunk, pos, length)
        return
      }
      this.record(chunk, view, pos, length)
      pos += length
      this.offset += length
    }
    if (pos < end) this.startPending(chunk, pos, 0)
  }

  /** The partial record left when the input ended, if any. */
  finish(): TruncatedTail | undefined {
    if (this.pendingFilled === 0) return undefined
    return {
      offset: this.offset,
      have: this.pendingFilled,
      need: this.pendingLength === 0 ? this.headerBytes : this.pendingLength,
    }
  }

  /** Keeps `chunk[pos..]`, the start of a record of `length` bytes (0 = header incomplete). */
  private startPending(chunk: Uint8Array, pos: number, length: number): void {
    this.pending = length === 0 ? this.headerScratch : new Uint8Array(length)
    this.pending.set(chunk.subarray(pos))
    this.pendingFilled = chunk.length - pos
    this.pendingLength = length
  }

  /** Feeds the pending record from the front of `chunk`; returns how many bytes it took. */
  private continuePending(chunk: Uint8Array): number {
    let pos = 0
    if (this.pendingLength === 0) {
      const take = Math.min(this.headerBytes - this.pendingFilled, chunk.length)
      this.headerScratch.set(chunk.subarray(0, take), this.pendingFilled)
      this.pendingFilled += take
      pos = take
      if (this.pendingFilled < this.headerBytes) return pos
      const scratch = this.headerScratch
      const length = this.recordLength(new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength), 0)
      this.pending = new Uint8Array(length)
      this.pending.set(scratch.subarray(0, this.headerBytes))
      this.pendingLength = length
    }
    const take = Math.min(this.pendingLength - this.pendingFilled, chunk.length - pos)
    this.pending.set(chunk.subarray(pos, pos + take), this.pendingFilled)
    this.pendingFilled += take
    pos += take
    if (this.pendingFilled < this.pendingLength) return pos

    const record = this.pending
    const length = this.pendingLength
    this.pending = this.headerScratch
    this.pendingFilled = 0
    this.pendingLength = 0
    this.record(record, new DataView(record.buffer, record.byteOffset, record.byteLength), 0, length)
    this.offset += length
    return pos
  }
}
