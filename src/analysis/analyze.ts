/**
 * analyzeCapture: the library entry for `defender-check analyze`. A saved capture (path, or '-'
 * for stdin; pcap, pcapng, gzip — sniffed by magic) in, an AnalysisReport out.
 */
import {readCapture} from '../capture/index.js'
import type {CaptureReport} from '../model/report.js'
import {Analyzer, type AnalyzerOptions} from './analyzer.js'

export interface AnalyzeCaptureOptions extends AnalyzerOptions {
  onProgress?(bytesRead: number, totalBytes?: number): void
  /** Bytes per read (readCapture's readBytes). */
  readBytes?: number
}

export async function analyzeCapture(input: string, options: AnalyzeCaptureOptions): Promise<CaptureReport> {
  const analyzer = new Analyzer(options)
  const capture = await readCapture(input, analyzer.sink, {onProgress: options.onProgress, readBytes: options.readBytes})
  return analyzer.finish({kind: input === '-' ? 'stdin' : 'file', name: input, capture})
}
