/**
 * The capture worker: reads a capture file on a thread of its own and triages every frame as the
 * Analyzer would (frame-triage.ts). Frames that are not Console traffic are counted here and go
 * no further; Console segments, frames to decode in full, Decryption Secrets Blocks and the
 * format are copied, in file order, into batches that travel to the Analyzer's thread
 * (parallel-read.ts says why and when, and reads them).
 *
 * Batches are ArrayBuffers moved (not copied) by postMessage and moved back when read: at most
 * MAX_BATCHES_IN_FLIGHT wait at a time, so a worker that runs ahead of a busy Analyzer waits
 * instead of filling memory.
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {parentPort, workerData} from 'node:worker_threads'
import {createCaptureParser} from '../capture/parser.js'
import type {FrameSkipper} from '../capture/pcap.js'
import {CaptureFormatError, type CaptureSink, type DecryptionSecrets, type RawFrame} from '../capture/types.js'
import {FrameTriage, PASSED_OVER} from './frame-triage.js'
import {
  BATCH_BYTES,
  ENTRY_FORMAT,
  ENTRY_FRAME,
  ENTRY_SECRETS,
  FRAME_ENTRY_HEADER,
  MAX_BATCHES_IN_FLIGHT,
  PROGRESS_EVERY_BYTES,
  SECRETS_ENTRY_HEADER,
  SEND_AT_BYTES,
  type CaptureWorkerData,
  type FromCaptureWorker,
  type ToCaptureWorker,
} from './capture-worker-protocol.js'

const port = parentPort!

/** The batch being filled, and the buffers the Analyzer has given back. */
class Batches {
  private buffer: ArrayBuffer | undefined
  private bytes = new Uint8Array(0)
  private view = new DataView(new ArrayBuffer(0))
  private used = 0
  private readonly spare: ArrayBuffer[] = []
  inFlight = 0
  private wake: (() => void) | undefined

  constructor(triage: FrameTriage) {
    port.on('message', (message: ToCaptureWorker) => {
      if (message.type === 'stop-counting') {
        triage.countOtherServers = false
        return
      }
      this.spare.push(message.buffer)
      this.inFlight--
      const wake = this.wake
      this.wake = undefined
      wake?.()
    })
  }

  /** Room for an entry of `size` bytes; returns where it starts. */
  reserve(size: number): number {
    if (this.buffer === undefined || this.used + size > this.bytes.length) {
      this.send(-1)
      this.buffer = this.spare.pop() ?? new ArrayBuffer(Math.max(BATCH_BYTES, size))
      if (this.buffer.byteLength < size) this.buffer = new ArrayBuffer(size)
      this.bytes = new Uint8Array(this.buffer)
      this.view = new DataView(this.buffer)
      this.used = 0
    }
    const at = this.used
    this.used += (size + 3) & ~3
    return at
  }

  /** Bytes in the batch being filled. */
  get filled(): number {
    return this.used
  }

  get data(): Uint8Array {
    return this.bytes
  }

  get dataView(): DataView {
    return this.view
  }

  /** Posts the batch if it holds anything (bytesRead -1: no progress news). */
  send(bytesRead: number): boolean {
    if (this.buffer === undefined || this.used === 0) return false
    const buffer = this.buffer
    post({type: 'batch', buffer, length: this.used, bytesRead}, [buffer])
    this.inFlight++
    this.buffer = undefined
    this.used = 0
    return true
  }

  /** Resolves when fewer than MAX_BATCHES_IN_FLIGHT batches wait to be read. */
  async drained(): Promise<void> {
    while (this.inFlight >= MAX_BATCHES_IN_FLIGHT) await new Promise<void>((resolve) => (this.wake = resolve))
  }
}

function post(message: FromCaptureWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(message, transfer)
}

/** The sink the capture parser feeds: triage, count what is passed over, batch the rest. */
class TriageSink implements CaptureSink, FrameSkipper {
  frames = 0
  firstTs: number | undefined
  lastTs: number | undefined
  /** skipFrame() has triaged the frame that frame() is about to receive: forward it. */
  private forward = false

  constructor(
    readonly triage: FrameTriage,
    private readonly batches: Batches,
  ) {}

  format(format: 'pcap' | 'pcapng'): void {
    const at = this.batches.reserve(8)
    const view = this.batches.dataView
    view.setUint32(at, ENTRY_FORMAT, true)
    view.setUint32(at + 4, format === 'pcap' ? 0 : 1, true)
  }

  secrets(block: DecryptionSecrets): void {
    const at = this.batches.reserve(SECRETS_ENTRY_HEADER + block.data.length)
    const view = this.batches.dataView
    view.setUint32(at, ENTRY_SECRETS, true)
    view.setUint32(at + 4, block.secretsType, true)
    view.setFloat64(at + 8, block.offset, true)
    view.setUint32(at + 16, block.data.length, true)
    this.batches.data.set(block.data, at + SECRETS_ENTRY_HEADER)
  }

  /** Classic pcap asks first, with the record in place. */
  skipFrame(data: Uint8Array, start: number, end: number, linkType: number, tsSec: number, tsNsec: number): boolean {
    const index = ++this.frames
    this.time(tsSec, tsNsec)
    if (this.triage.triage(data, start, end, linkType, index) === PASSED_OVER) return true
    this.forward = true
    return false
  }

  frame(frame: RawFrame): void {
    this.frames = frame.index
    if (this.forward) this.forward = false
    else {
      this.time(frame.tsSec, frame.tsNsec)
      if (this.triage.triage(frame.data, 0, frame.data.length, frame.linkType, frame.index) === PASSED_OVER) return
    }
    const data = frame.data
    const at = this.batches.reserve(FRAME_ENTRY_HEADER + data.length)
    const view = this.batches.dataView
    view.setUint32(at, ENTRY_FRAME, true)
    view.setUint32(at + 4, frame.index, true)
    view.setUint32(at + 8, frame.tsSec, true)
    view.setUint32(at + 12, frame.tsNsec, true)
    view.setUint32(at + 16, frame.linkType, true)
    view.setUint32(at + 20, frame.origLen, true)
    view.setUint32(at + 24, frame.interfaceId, true)
    view.setUint32(at + 28, data.length, true)
    this.batches.data.set(data, at + FRAME_ENTRY_HEADER)
  }

  private time(tsSec: number, tsNsec: number): void {
    const ts = tsSec + tsNsec / 1e9
    this.firstTs ??= ts
    this.lastTs = ts
  }
}

async function run(data: CaptureWorkerData): Promise<void> {
  const triage = new FrameTriage(data.ports)
  const batches = new Batches(triage)
  const sink = new TriageSink(triage, batches)
  const parser = createCaptureParser(sink, {maxRecordBytes: data.maxRecordBytes})
  const chunk = new Uint8Array(data.readBytes)
  let fd: number
  try {
    fd = openSync(data.file, 'r')
  } catch (err) {
    post({type: 'error', code: 'READ', message: `cannot read: ${(err as Error).message}`, offset: 0})
    return
  }
  let bytesRead = 0
  let reported = 0
  try {
    for (;;) {
      let n: number
      try {
        // Synchronous: a read in the thread pool beside the parse made a third busy thread on
        // two cores, and was slower.
        n = readSync(fd, chunk, 0, chunk.length, null)
      } catch (err) {
        batches.send(bytesRead)
        post({type: 'error', code: 'READ', message: `cannot read: ${(err as Error).message}`, offset: bytesRead})
        return
      }
      if (n === 0) break
      bytesRead += n
      parser.push(chunk.subarray(0, n))
      // A batch goes when it is full enough to be worth a message, or the file has moved on
      // enough (the first at once: the Analyzer is waiting); a stretch with nothing to hand
      // over still tells how far the reading got.
      if (bytesRead - reported >= PROGRESS_EVERY_BYTES || batches.filled >= SEND_AT_BYTES || reported === 0) {
        if (!batches.send(bytesRead)) post({type: 'progress', bytesRead})
        reported = bytesRead
      }
      await batches.drained()
    }
    const summary = parser.end()
    batches.send(bytesRead)
    post({
      type: 'end',
      summary,
      bytesRead,
      passedOver: {frames: sink.frames, firstTs: sink.firstTs, lastTs: sink.lastTs, otherServers: sink.triage.otherServers.counts()},
    })
  } catch (err) {
    // Frames before the damage are analysed: they go first, then the error.
    batches.send(bytesRead)
    if (err instanceof CaptureFormatError) post({type: 'error', code: err.code, message: err.message, offset: err.offset})
    else post({type: 'crash', message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined})
  } finally {
    closeSync(fd)
  }
}

await run(workerData as CaptureWorkerData)
