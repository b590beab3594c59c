/**
 * HeldBytes: one direction's bytes kept while a proxy preamble is read. Stream bytes are valid
 * only during the handler call, so what the preamble reader cannot decide on at once is copied
 * here, with the frame each chunk came in and the gaps and end seen after it. When the tunnel
 * opens, what was not consumed by the preamble is replayed to the inner handler chunk by chunk,
 * each with its own frame, as if the stream had started there.
 */
import type {Direction, FrameRef, StreamHandler} from '../../stream/types.js'

interface Mark {
  /** Offset in the held bytes where the chunk, gap or end comes. */
  at: number
  ref: FrameRef
  /** Bytes never captured at `at`. */
  gap?: number
  /** The stream ended at `at` ('both': reset). */
  end?: Direction | 'both'
}

const EMPTY = new Uint8Array(0)

export class HeldBytes {
  private buffer: Uint8Array = EMPTY
  private readonly marks: Mark[] = []
  /** Bytes held (consumed ones included). */
  length = 0
  /** Bytes consumed by the preamble parser. */
  consumed = 0

  /** Copies `bytes` (valid only during the caller's call). */
  append(bytes: Uint8Array, ref: FrameRef): void {
    const needed = this.length + bytes.length
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2, 256))
      grown.set(this.buffer.subarray(0, this.length))
      this.buffer = grown
    }
    this.buffer.set(bytes, this.length)
    this.marks.push({at: this.length, ref})
    this.length = needed
  }

  addGap(size: number, ref: FrameRef): void {
    this.marks.push({at: this.length, ref, gap: size})
  }

  addEnd(end: Direction | 'both', ref: FrameRef): void {
    this.marks.push({at: this.length, ref, end})
  }

  /** Bytes not consumed yet (a view, valid until the next append). */
  unread(): Uint8Array {
    return this.buffer.subarray(this.consumed, this.length)
  }

  get available(): number {
    return this.length - this.consumed
  }

  consume(count: number): void {
    this.consumed += count
  }

  /** The frame of the chunk that carried the byte at `offset` (absolute). */
  refAt(offset: number): FrameRef {
    let ref = this.marks[0]!.ref
    for (const mark of this.marks) {
      if (mark.at > offset) break
      if (mark.gap === undefined && mark.end === undefined) ref = mark.ref
    }
    return ref
  }

  /** Hands what was not consumed to `handler` as `direction`, in the order it came. */
  replay(direction: Direction, handler: StreamHandler): void {
    const marks = this.marks
    for (let i = 0; i < marks.length; i++) {
      const mark = marks[i]!
      if (mark.gap !== undefined) {
        if (mark.at >= this.consumed) handler.gap?.(direction, mark.gap, mark.ref)
      } else if (mark.end !== undefined) {
        if (mark.at >= this.consumed) handler.end?.(mark.end, mark.ref)
      } else {
        const stop = i + 1 < marks.length ? marks[i + 1]!.at : this.length
        const start = Math.max(mark.at, this.consumed)
        if (start < stop) handler.data(direction, this.buffer.subarray(start, stop), mark.ref)
      }
    }
  }
}
