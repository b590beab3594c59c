/**
 * Reading a big capture on two threads. The Analyzer's thread is busy with the Console's
 * connections; reading the file and passing over the rest of the traffic (on a Defender-side or
 * mirrored capture, ~97% of the frames) can happen beside it. The capture worker
 * (capture-worker.ts) reads and triages the file and hands over, in file order, only what the
 * Analyzer needs; its counts of the rest are merged in at the end (Analyzer.passedOver). The
 * report is the one the single-threaded path gives (test/analysis/parallel-read.test.ts compares
 * them on every fixture).
 *
 * It pays on captures where most bytes are not Console traffic. Where nearly all are (a capture
 * filtered to port 8084 on the Console host), every frame is copied across for nothing and the
 * two threads compete for the cores that the garbage collector's helpers use: analyzeCapture()
 * looks at the start of the file before choosing (consoleShare()).
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {createRequire} from 'node:module'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import {createCaptureParser} from '../capture/parser.js'
import type {FrameSkipper} from '../capture/pcap.js'
import {CaptureFormatError, type CaptureSummary, type RawFrame} from '../capture/types.js'
import type {Analyzer} from './analyzer.js'
import {
  ENTRY_FORMAT,
  ENTRY_FRAME,
  ENTRY_SECRETS,
  FRAME_ENTRY_HEADER,
  SECRETS_ENTRY_HEADER,
  type CaptureWorkerData,
  type FromCaptureWorker,
  type ToCaptureWorker,
} from './capture-worker-protocol.js'
import {FrameTriage, PASSED_OVER} from './frame-triage.js'

export interface ParallelReadOptions {
  maxRecordBytes?: number
  readBytes: number
  onProgress?(bytesRead: number, totalBytes?: number): void
  totalBytes?: number
}

/**
 * Reads `file` through the capture worker into `analyzer` (its sink, then passedOver()). Resolves
 * with the capture's summary; rejects with the CaptureFormatError (file and offset) of a corrupt
 * file after every frame before the damage was analysed, as readCapture() does.
 */
export function readCaptureInWorker(file: string, analyzer: Analyzer, ports: number[], options: ParallelReadOptions): Promise<CaptureSummary> {
  const data: CaptureWorkerData = {file, ports, maxRecordBytes: options.maxRecordBytes, readBytes: options.readBytes}
  const worker = spawnCaptureWorker(data)
  const sink = analyzer.sink
  return new Promise<CaptureSummary>((resolve, reject) => {
    let settled = false
    /** The worker was told to stop counting other servers. */
    let stopped = false
    const settle = (error: unknown, summary?: CaptureSummary) => {
      if (settled) return
      settled = true
      void worker.terminate()
      if (error === undefined) resolve(summary!)
      else reject(error)
    }
    worker.on('message', (message: FromCaptureWorker) => {
      if (settled) return
      try {
        switch (message.type) {
          case 'batch':
            readBatch(message.buffer, message.length, sink)
            worker.postMessage({type: 'free', buffer: message.buffer} satisfies ToCaptureWorker, [message.buffer])
            if (!stopped && analyzer.foundConsoleTraffic) {
              stopped = true
              worker.postMessage({type: 'stop-counting'} satisfies ToCaptureWorker)
            }
            if (message.bytesRead >= 0) options.onProgress?.(message.bytesRead, options.totalBytes)
            break
          case 'progress':
            options.onProgress?.(message.bytesRead, options.totalBytes)
            break
          case 'end':
            options.onProgress?.(message.bytesRead, options.totalBytes)
            analyzer.passedOver(message.passedOver)
            settle(undefined, message.summary)
            break
          case 'error':
            settle(new CaptureFormatError(message.code, message.message, message.offset, file))
            break
          case 'crash': {
            const error = new Error(`capture worker: ${message.message}`)
            if (message.stack !== undefined) error.stack = message.stack
            settle(error)
            break
          }
        }
      } catch (err) {
        settle(err)
      }
    })
    worker.on('error', (err) => settle(err))
    worker.on('exit', (code) => settle(new Error(`capture worker exited (code ${code}) before the end of ${file}`)))
  })
}

/** Hands a batch's entries to the Analyzer's sink, in order. */
function readBatch(buffer: ArrayBuffer, length: number, sink: Analyzer['sink']): void {
  const bytes = new Uint8Array(buffer, 0, length)
  const view = new DataView(buffer, 0, length)
  let at = 0
  while (at < length) {
    const tag = view.getUint32(at, true)
    if (tag === ENTRY_FRAME) {
      const caplen = view.getUint32(at + 28, true)
      const start = at + FRAME_ENTRY_HEADER
      const frame: RawFrame = {
        index: view.getUint32(at + 4, true),
        tsSec: view.getUint32(at + 8, true),
        tsNsec: view.getUint32(at + 12, true),
        linkType: view.getUint32(at + 16, true),
        origLen: view.getUint32(at + 20, true),
        interfaceId: view.getUint32(at + 24, true),
        data: bytes.subarray(start, start + caplen),
      }
      sink.frame(frame)
      at = start + ((caplen + 3) & ~3)
    } else if (tag === ENTRY_SECRETS) {
      const size = view.getUint32(at + 16, true)
      const start = at + SECRETS_ENTRY_HEADER
      // The key store parses the block now; a copy, since the batch goes back to the worker.
      sink.secrets?.({secretsType: view.getUint32(at + 4, true), offset: view.getFloat64(at + 8, true), data: bytes.slice(start, start + size)})
      at = start + ((size + 3) & ~3)
    } else if (tag === ENTRY_FORMAT) {
      sink.format?.(view.getUint32(at + 4, true) === 0 ? 'pcap' : 'pcapng')
      at += 8
    } else {
      throw new Error(`capture worker batch: unknown entry ${tag} at ${at}`)
    }
  }
}

function spawnCaptureWorker(data: CaptureWorkerData): Worker {
  if (import.meta.url.endsWith('.ts')) {
    // Running from the TypeScript sources (the tests, bin/dev.js): the worker compiles its own
    // modules through tsx, as the parent does.
    const tsx = createRequire(import.meta.url).resolve('tsx/esm/api')
    const entry = new URL('./capture-worker.ts', import.meta.url).href
    const source = `import(${JSON.stringify(pathToFileURL(tsx).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
    return new Worker(source, {eval: true, workerData: data})
  }
  return new Worker(new URL('./capture-worker.js', import.meta.url), {workerData: data})
}

/**
 * The share of the first `sampleBytes` of a classic pcap or pcapng file that the Analyzer would
 * have to look at itself (Console segments and frames to decode), 0..1; undefined when the
 * sample cannot tell (not a capture, too short, corrupt): the caller then reads in one thread,
 * which reports the problem as usual.
 */
export function consoleShare(file: string, ports: number[], sampleBytes: number): number | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return undefined
  }
  try {
    const sample = new Uint8Array(sampleBytes)
    const n = readSync(fd, sample, 0, sampleBytes, 0)
    const triage = new FrameTriage(ports)
    triage.countOtherServers = false
    let kept = 0
    let total = 0
    let forward = false
    const count = (data: Uint8Array, start: number, end: number, linkType: number): boolean => {
      total += end - start
      if (triage.triage(data, start, end, linkType, 0) === PASSED_OVER) return true
      kept += end - start
      return false
    }
    const sink: Parameters<typeof createCaptureParser>[0] & FrameSkipper = {
      skipFrame: (data, start, end, linkType) => {
        forward = !count(data, start, end, linkType)
        return !forward
      },
      frame: (frame) => {
        if (forward) forward = false
        else count(frame.data, 0, frame.data.length, frame.linkType)
      },
    }
    const parser = createCaptureParser(sink)
    try {
      parser.push(sample.subarray(0, n))
    } catch {
      return undefined
    }
    return total === 0 ? undefined : kept / total
  } finally {
    closeSync(fd)
  }
}
