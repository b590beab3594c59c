/**
 * analyzeCapture: the library entry for `defender-check analyze`. A saved capture (path, or '-'
 * for stdin; pcap, pcapng, gzip — sniffed by magic) in, an AnalysisReport out.
 */
import {closeSync, openSync, readSync, statSync} from 'node:fs'
import {readCapture} from '../capture/index.js'
import {READ_BYTES} from '../capture/source.js'
import type {CaptureReport} from './types.js'
import {Analyzer, type AnalyzerOptions} from './analyzer.js'
import {consoleShare, readCaptureInWorker} from './parallel-read.js'

export interface AnalyzeCaptureOptions extends AnalyzerOptions {
  onProgress?(bytesRead: number, totalBytes?: number): void
  /** Bytes per read (readCapture's readBytes). */
  readBytes?: number
  /**
   * Read and triage the file on a second thread (parallel-read.ts): true, false, or 'auto'
   * (default): for an uncompressed file of PARALLEL_READ_MIN_BYTES or more whose first
   * PARALLEL_READ_SAMPLE_BYTES are mostly not Console traffic. The report is the same either way.
   */
  parallelRead?: boolean | 'auto'
}

/** Below this, starting a worker (~30 ms) costs more than it saves. */
export const PARALLEL_READ_MIN_BYTES = 64 << 20
/** How much of the file's start is sampled to see whether a second thread would pay. */
export const PARALLEL_READ_SAMPLE_BYTES = 8 << 20
/**
 * A second thread pays when most of the bytes need not reach the Analyzer: measured on the bench
 * captures, 3% Console traffic made the run 1.2-1.4x faster, 100% made it slower.
 */
export const PARALLEL_READ_MAX_CONSOLE_SHARE = 0.5

export async function analyzeCapture(input: string, options: AnalyzeCaptureOptions): Promise<CaptureReport> {
  const analyzer = new Analyzer(options)
  const source = {kind: input === '-' ? ('stdin' as const) : ('file' as const), name: input}
  const ports = options.policy.ports
  const readBytes = options.readBytes ?? READ_BYTES
  if (input !== '-' && ports.length > 0 && useWorker(input, ports, options.parallelRead ?? 'auto')) {
    const capture = await readCaptureInWorker(input, analyzer, ports, {
      readBytes,
      onProgress: options.onProgress,
      totalBytes: fileSize(input),
    })
    return analyzer.finish({...source, capture})
  }
  const capture = await readCapture(input, analyzer.sink, {onProgress: options.onProgress, readBytes})
  return analyzer.finish({...source, capture})
}

function useWorker(file: string, ports: number[], choice: boolean | 'auto'): boolean {
  // A regular file only: a FIFO or a device is read as a stream, and a missing file's error
  // comes from readCapture().
  const size = fileSize(file)
  if (choice === false || size === undefined || isGzip(file)) return false
  if (choice === true) return true
  if (size < PARALLEL_READ_MIN_BYTES) return false
  const share = consoleShare(file, ports, PARALLEL_READ_SAMPLE_BYTES)
  return share !== undefined && share <= PARALLEL_READ_MAX_CONSOLE_SHARE
}

function fileSize(file: string): number | undefined {
  try {
    const stat = statSync(file)
    return stat.isFile() ? stat.size : undefined
  } catch {
    return undefined
  }
}

/** Gzip input is decompressed on the Analyzer's thread (readCapture). */
function isGzip(file: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const magic = new Uint8Array(2)
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
