/**
 * TCP reassembly for ONE direction of a connection (RFC 9293 §3.4, §3.10.7.4): turns segments
 * in capture order into in-order bytes, with explicit gaps where bytes were never captured.
 *
 * Sequence numbers are unsigned 32-bit and wrap (RFC 9293 §3.4: "all arithmetic dealing with
 * sequence numbers must be performed modulo 2**32"). Internally every byte gets an absolute
 * stream offset (a double, exact to 2^53) so the out-of-order buffer never compares wrapped
 * values: an incoming seq becomes `nextOffset + ((seq - nextSeq) | 0)`, the signed 32-bit
 * distance from the next expected byte.
 *
 * Overlaps: the first bytes received for an offset win (Wireshark's default); a later segment
 * that disagrees with buffered bytes raises 'tcp.overlap-mismatch'. Bytes already delivered are
 * not kept, so a retransmission of delivered data is counted but cannot be compared.
 */
import type {Issue} from '../issues.js'
import type {TcpDirectionStats} from './types.js'

/** Where a StreamReassembler delivers; frame/ts identify the segment that carried the bytes. */
export interface ReassemblySink {
  /** In-order bytes, valid only during the call. */
  data(bytes: Uint8Array, frame: number, ts: number): void
  /** `size` bytes were never captured; delivery resumes after them. */
  gap(size: number, frame: number, ts: number): void
  /** The FIN was reached in sequence: this direction is complete. */
  fin(frame: number, ts: number): void
  issue(issue: Issue): void
}

export interface StreamReassemblerOptions {
  /** Most out-of-order bytes held before the hole in front of them is declared a gap. */
  maxBufferedBytes: number
  /** Names the direction in issue messages, e.g. 'client→server'. */
  label: string
}

/** Highest skip-list level; 4^12 buffered segments before levels stop helping. */
const MAX_LEVEL = 12
const EMPTY = new Uint8Array(0)

/** A buffered out-of-order piece [start, end) of the stream; pieces never overlap. */
class Piece {
  readonly next: Array<Piece | null>
  constructor(
    public start: number,
    public end: number,
    public bytes: Uint8Array,
    readonly frame: number,
    readonly ts: number,
    level: number,
  ) {
    this.next = new Array<Piece | null>(level).fill(null)
  }
}

const NO_PIECES: Piece[] = []

/** Counts repeated occurrences of one issue kind so a capture cut at every packet adds one Issue, not millions. */
class RepeatedIssue {
  issue: Issue | undefined = undefined
  count = 0
  bytes = 0
}

export class StreamReassembler {
  /** Next expected sequence number (unsigned 32-bit) and its absolute stream offset. */
  private nextSeq = 0
  private nextOffset = 0
  private initialized = false
  /** Absolute offset of the FIN, -1 until one is seen. */
  private finOffset = -1
  private finished = false
  private closed = false

  /**
   * Skip list of buffered pieces ordered by start (William Pugh, 1990): O(log n) insert and
   * lookup. Made at the first out-of-order segment and dropped when the buffer is cleared: most
   * connections arrive in order and never need one.
   */
  private head: Piece | null = null
  private level = 1
  private update: Piece[] = NO_PIECES
  private buffered = 0
  private random = 0x9e3779b9

  /** Made at the first occurrence. */
  private snaplenCuts: RepeatedIssue | undefined = undefined
  private mismatches: RepeatedIssue | undefined = undefined
  private dataAfterFin = false
  private bufferLimitReached = false

  constructor(
    private readonly sink: ReassemblySink,
    private readonly stats: TcpDirectionStats,
    private readonly options: StreamReassemblerOptions,
  ) {}

  /** Bytes held out of order right now. */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** The next sequence number expected (unsigned 32-bit); undefined before the direction started. */
  get nextSequence(): number | undefined {
    return this.initialized ? this.nextSeq : undefined
  }

  /** The FIN was delivered in sequence (or the direction was closed). */
  get ended(): boolean {
    return this.finished || this.closed
  }

  /**
   * Starts the sequence space at `seq` when nothing did yet: used for the side whose SYN was not
   * captured but whose ISN+1 the peer's SYN-ACK acknowledges.
   */
  expect(seq: number): void {
    if (!this.initialized) this.start(seq)
  }

  /**
   * One segment of this direction. `payload` is the captured part (a view valid during the
   * call) of `payloadLength` bytes on the wire. SYN and FIN each consume one sequence number.
   */
  segment(seq: number, syn: boolean, fin: boolean, payload: Uint8Array, payloadLength: number, frame: number, ts: number): void {
    // RFC 9293 §3.4: the SYN occupies the ISN, data starts at ISN+1.
    const dataSeq = syn ? (seq + 1) >>> 0 : seq
    if (!this.initialized) {
      if (this.closed || (!syn && payloadLength === 0 && !fin)) return
      this.start(dataSeq)
    }
    const start = this.nextOffset + ((dataSeq - this.nextSeq) | 0)
    const end = start + payloadLength
    if (this.closed) {
      // Nothing more is delivered, but retransmissions after the close still count.
      if (payloadLength > 0 && end <= this.nextOffset) this.stats.retransmissions++
      return
    }
    if (fin && this.finOffset < 0 && end >= this.nextOffset) this.finOffset = end
    if (payloadLength === 0) {
      if (fin && this.buffered === 0) this.reachFin(frame, ts)
      return
    }
    const stats = this.stats
    if (end <= this.nextOffset) {
      // Entirely old: a retransmission, or a keep-alive probe (1 byte at next-1, RFC 9293 §3.8.4).
      stats.retransmissions++
      return
    }
    if (this.finished || (this.finOffset >= 0 && end > this.finOffset)) {
      this.noteDataAfterFin(frame)
      if (this.finished) return
    }
    const captured = payload.length < payloadLength ? payload.length : payloadLength
    if (captured < payloadLength) this.noteSnaplen(captured, payloadLength, frame)

    if (start === this.nextOffset && this.buffered === 0) {
      // The common case: in order, nothing waiting. Deliver the view itself, no copy.
      if (captured > 0) this.deliver(captured === payload.length ? payload : payload.subarray(0, captured), frame, ts)
      if (captured < payloadLength) this.skip(payloadLength - captured, frame, ts)
      if (this.nextOffset === this.finOffset) this.reachFin(frame, ts)
      return
    }

    // Bytes before the next expected one were delivered already; the rest is stored, minus
    // what buffered pieces cover (first received wins).
    const from = start < this.nextOffset ? this.nextOffset - start : 0
    const stored = from < captured ? this.store(start + from, payload, from, captured, frame, ts) : 0
    if (stored === 0 && captured === payloadLength) {
      stats.retransmissions++
      return
    }
    if (from > 0 || stored < captured - from) stats.overlaps++
    if (start > this.nextOffset) stats.outOfOrder++
    this.drain()
    // A snaplen-cut segment at the front leaves a hole that no copy of it can fill.
    if (captured < payloadLength && start + captured <= this.nextOffset) this.advanceTo(end, frame, ts)
    if (this.buffered > this.options.maxBufferedBytes) this.relieve(frame, ts)
  }

  /**
   * The peer acknowledged everything before `ack`. Bytes acknowledged but never captured are a
   * gap: the receiver got them, so they will not come again (Wireshark: "ACKed unseen segment").
   */
  acknowledged(ack: number, frame: number, ts: number): void {
    if (!this.initialized || this.finished || this.closed) return
    const distance = (ack - this.nextSeq) | 0
    if (distance <= 0) return
    this.advanceTo(this.nextOffset + distance, frame, ts)
  }

  /**
   * End of input (or of the connection): buffered bytes are delivered with gaps for the holes
   * before them, then the buffer is released.
   */
  flush(frame: number, ts: number): void {
    if (this.closed) return
    const last = this.lastPiece()
    if (last !== null) this.advanceTo(last.end, frame, ts)
    if (this.finOffset >= this.nextOffset && !this.finished) this.advanceTo(this.finOffset + 1, frame, ts)
    this.close()
  }

  /** Stops reassembly (RST, eviction) and releases the buffer; later segments are ignored. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.clearBuffer()
    this.finishIssues()
  }

  private start(seq: number): void {
    this.initialized = true
    this.nextSeq = seq >>> 0
    this.nextOffset = 0
  }

  private deliver(bytes: Uint8Array, frame: number, ts: number): void {
    this.nextOffset += bytes.length
    this.nextSeq = (this.nextSeq + bytes.length) >>> 0
    this.stats.deliveredBytes += bytes.length
    this.sink.data(bytes, frame, ts)
  }

  private skip(size: number, frame: number, ts: number): void {
    this.nextOffset += size
    this.nextSeq = (this.nextSeq + size) >>> 0
    this.sink.gap(size, frame, ts)
  }

  private reachFin(frame: number, ts: number): void {
    if (this.finished || this.nextOffset !== this.finOffset) return
    this.finished = true
    this.nextOffset += 1
    this.nextSeq = (this.nextSeq + 1) >>> 0
    this.clearBuffer()
    this.sink.fin(frame, ts)
  }

  /** Delivers buffered pieces that start at (or before) the next expected byte. */
  private drain(): void {
    let piece = this.firstPiece()
    while (piece !== null && piece.start <= this.nextOffset) {
      this.removeFirst(piece)
      if (piece.end > this.nextOffset) {
        const bytes = piece.start < this.nextOffset ? piece.bytes.subarray(this.nextOffset - piece.start) : piece.bytes
        this.deliver(bytes, piece.frame, piece.ts)
      }
      if (this.nextOffset === this.finOffset) {
        this.reachFin(piece.frame, piece.ts)
        return
      }
      piece = this.firstPiece()
    }
  }

  private firstPiece(): Piece | null {
    return this.head === null ? null : this.head.next[0]!
  }

  /** Moves delivery to at least `target`, declaring gaps for holes and delivering what is buffered. */
  private advanceTo(target: number, frame: number, ts: number): void {
    while (this.nextOffset < target && !this.finished) {
      if (this.nextOffset === this.finOffset) {
        this.reachFin(frame, ts)
        return
      }
      const first = this.firstPiece()
      let holeEnd = first !== null && first.start < target ? first.start : target
      if (this.finOffset > this.nextOffset && this.finOffset < holeEnd) holeEnd = this.finOffset
      if (holeEnd > this.nextOffset) this.skip(holeEnd - this.nextOffset, frame, ts)
      this.drain()
    }
    if (!this.finished && this.nextOffset === this.finOffset && this.buffered === 0) this.reachFin(frame, ts)
  }

  /** Too much is buffered behind a hole: give up on the hole (RFC 9293 leaves the bound to us). */
  private relieve(frame: number, ts: number): void {
    if (!this.bufferLimitReached) {
      this.bufferLimitReached = true
      this.sink.issue({
        code: 'stream.buffer-limit',
        severity: 'warn',
        message:
          `${this.options.label}: more than ${this.options.maxBufferedBytes} bytes waited behind a hole at frame ${frame}; ` +
          'the hole was declared a gap so memory stays bounded',
        frame,
      })
    }
    while (this.buffered > this.options.maxBufferedBytes) {
      const first = this.firstPiece()!
      this.advanceTo(first.start, frame, ts)
    }
  }

  /**
   * Buffers payload[from, to) as stream bytes from `offset`, keeping only the parts no buffered
   * piece covers (first received wins) and copying them: the payload view dies with the call.
   * Returns the number of bytes newly stored.
   */
  private store(offset: number, payload: Uint8Array, from: number, to: number, frame: number, ts: number): number {
    const end = offset + (to - from)
    const head = (this.head ??= this.newHead())
    // Find the last piece starting at or before offset.
    let x = head
    for (let i = this.level - 1; i >= 0; i--) {
      let n = x.next[i]!
      while (n !== null && n.start <= offset) {
        x = n
        n = x.next[i]!
      }
    }
    let piece: Piece | null = x !== head && x.end > offset ? x : x.next[0]!
    let cursor = offset
    let stored = 0
    while (piece !== null && piece.start < end) {
      if (piece.start > cursor) {
        this.insert(cursor, payload.slice(from + (cursor - offset), from + (piece.start - offset)), frame, ts)
        stored += piece.start - cursor
      }
      const overlapStart = piece.start > cursor ? piece.start : cursor
      const overlapEnd = piece.end < end ? piece.end : end
      if (overlapEnd > overlapStart) this.compare(piece, overlapStart, overlapEnd, payload, from + (overlapStart - offset), frame)
      if (piece.end > cursor) cursor = piece.end
      piece = piece.next[0]!
    }
    if (cursor < end) {
      this.insert(cursor, payload.slice(from + (cursor - offset), to), frame, ts)
      stored += end - cursor
    }
    return stored
  }

  private compare(piece: Piece, start: number, end: number, payload: Uint8Array, at: number, frame: number): void {
    const bytes = piece.bytes
    const base = start - piece.start
    for (let i = 0, n = end - start; i < n; i++) {
      if (bytes[base + i] !== payload[at + i]) {
        const note = (this.mismatches ??= new RepeatedIssue())
        note.count++
        note.bytes += n
        if (note.issue === undefined) {
          note.issue = {
            code: 'tcp.overlap-mismatch',
            severity: 'warn',
            message:
              `${this.options.label}: frame ${frame} overlaps ${n} bytes buffered from frame ${piece.frame} with different ` +
              `content (first at stream offset ${start + i}); the first received bytes were kept`,
            frame,
          }
          this.sink.issue(note.issue)
        }
        return
      }
    }
  }

  private newHead(): Piece {
    this.update = new Array<Piece>(MAX_LEVEL)
    this.level = 1
    return new Piece(0, 0, EMPTY, 0, 0, MAX_LEVEL)
  }

  /** Called by store(), which made the head. */
  private insert(start: number, bytes: Uint8Array, frame: number, ts: number): void {
    const update = this.update
    const head = this.head!
    let x = head
    for (let i = this.level - 1; i >= 0; i--) {
      let n = x.next[i]!
      while (n !== null && n.start < start) {
        x = n
        n = x.next[i]!
      }
      update[i] = x
    }
    const level = this.randomLevel()
    if (level > this.level) {
      for (let i = this.level; i < level; i++) update[i] = head
      this.level = level
    }
    const piece = new Piece(start, start + bytes.length, bytes, frame, ts, level)
    for (let i = 0; i < level; i++) {
      piece.next[i] = update[i]!.next[i]!
      update[i]!.next[i] = piece
    }
    this.buffered += bytes.length
  }

  /** Unlinks `piece`, which is the first piece. */
  private removeFirst(piece: Piece): void {
    const head = this.head!
    for (let i = 0; i < piece.next.length; i++) head.next[i] = piece.next[i]!
    this.buffered -= piece.end - piece.start
  }

  private lastPiece(): Piece | null {
    const head = this.head
    if (head === null) return null
    let x = head
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.next[i] !== null) x = x.next[i]!
    }
    return x === head ? null : x
  }

  private clearBuffer(): void {
    this.head = null
    this.update = NO_PIECES
    this.level = 1
    this.buffered = 0
  }

  /** Level with probability 4^-(level-1) (Pugh's p = 1/4); xorshift32 keeps runs reproducible. */
  private randomLevel(): number {
    let r = this.random
    r ^= r << 13
    r ^= r >>> 17
    r ^= r << 5
    this.random = r >>> 0
    let level = 1
    while (level < MAX_LEVEL && (r & 3) === 0) {
      level++
      r >>>= 2
    }
    return level
  }

  private noteSnaplen(captured: number, wire: number, frame: number): void {
    const note = (this.snaplenCuts ??= new RepeatedIssue())
    note.count++
    note.bytes += wire - captured
    if (note.issue === undefined) {
      note.issue = {
        code: 'tcp.snaplen',
        severity: 'warn',
        message:
          `${this.options.label}: frame ${frame} carries ${wire} payload bytes but the capture kept ${captured} ` +
          `(snaplen cut ${wire - captured} bytes); the stream has a gap there`,
        frame,
      }
      this.sink.issue(note.issue)
    }
  }

  private noteDataAfterFin(frame: number): void {
    if (this.dataAfterFin) return
    this.dataAfterFin = true
    this.sink.issue({
      code: 'tcp.data-after-fin',
      severity: 'warn',
      message: `${this.options.label}: frame ${frame} carries data beyond the FIN's sequence number`,
      frame,
    })
  }

  /** Appends totals to issues that stood for many occurrences. */
  private finishIssues(): void {
    const snaplen = this.snaplenCuts
    if (snaplen?.issue !== undefined && snaplen.count > 1) {
      snaplen.issue.message += ` (${snaplen.count} segments cut in this direction, ${snaplen.bytes} bytes missing in all)`
    }
    const mismatch = this.mismatches
    if (mismatch?.issue !== undefined && mismatch.count > 1) {
      mismatch.issue.message += ` (${mismatch.count} overlapping segments differed in this direction)`
    }
  }
}
