/**
 * The fuzz target: capture bytes through the whole analyze pipeline in-process, the path
 * `defender-check analyze FILE` takes minus the file read: capture parser (or the gzip stream
 * reader) → Analyzer (decoders, tracker, reassembly, TLS, decryption with a key log) → checks →
 * every report format: JSON and NDJSON whole and streamed as the CLI streams them, the table
 * whole and from its streaming digest, JUnit and HTML; and the reports against the JSON Schema.
 * A CaptureFormatError is the one expected failure (a corrupt file is exit 2); any other
 * exception, or a report the schema rejects, is a finding.
 */
import {Readable} from 'node:stream'
import {gzipSync} from 'node:zlib'
import {Analyzer} from '../src/analysis/analyzer.js'
import {buildPolicy} from '../src/analysis/policy.js'
import type {ConnectionReport} from '../src/model/report.js'
import {createCaptureParser} from '../src/capture/parser.js'
import {readCaptureStream} from '../src/capture/source.js'
import {CaptureFormatError, type CaptureSummary} from '../src/capture/types.js'
import {parseKeyLog} from '../src/keys/keylog.js'
import {KeyStore} from '../src/keys/store.js'
import {renderHtml} from '../src/report/html.js'
import {JsonReportStream, renderJson} from '../src/report/json.js'
import {renderJunit} from '../src/report/junit.js'
import {ndjsonConnectionLine, ndjsonSummaryLine, renderNdjson} from '../src/report/ndjson.js'
import {validateNdjsonLine, validateReport} from '../src/report/schema.js'
import {renderTable, tableDigest} from '../src/report/table.js'
import {TOOL_VERSION} from '../src/analysis/version.js'

/** Every TCP port, so corpus captures on 443 and other ports reach TLS too; and the Console port. */
const POLICIES = [buildPolicy({ports: ['any'], minTls: '1.2'}), buildPolicy({})]

export type Outcome = {kind: 'report'; connections: number} | {kind: 'capture-error'; code: string; offset: number}

/** A finding: the pipeline threw something that is not ours, or lied in its report. */
export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding'
}

export interface PipelineOptions {
  policy?: 0 | 1
  /** Where the bytes are split in two chunks (readers must not care where chunks split). */
  splitAt?: number
  /** Feed the bytes gzip-compressed through the stream reader (the path of `analyze FILE.gz` and stdin). */
  gzip?: boolean
  /** With gzip: this compressed byte is flipped (a corrupt .gz must be exit 2, never a crash). */
  corruptGzipAt?: number
  /** A key log's text (possibly mutated): parsed and given to the Analyzer, as --keylog does. */
  keyLog?: string
}

/**
 * Runs `bytes` through the pipeline. Throws whatever escapes that is not a CaptureFormatError,
 * and a FuzzFinding when a report (whole or streamed) fails its schema.
 */
export async function runPipeline(bytes: Uint8Array, options: PipelineOptions = {}): Promise<Outcome> {
  const policy = POLICIES[options.policy ?? 0]!
  let keys: KeyStore | undefined
  if (options.keyLog !== undefined) {
    keys = new KeyStore()
    keys.addFile('fuzz.keys', parseKeyLog(options.keyLog, 'fuzz.keys'))
  }
  // The streaming writers get every connection as it is decided, as openReport wires them.
  let jsonText = ''
  const json = new JsonReportStream({schemaVersion: 1, tool: {name: 'defender-check', version: TOOL_VERSION}, policy}, (text) => (jsonText += text), 2)
  const ndjsonLines: string[] = []
  const digest = tableDigest()
  const onConnection = (connection: ConnectionReport): void => {
    json.connection(connection)
    ndjsonLines.push(ndjsonConnectionLine(connection, 'fuzz.pcap'))
    digest.add(connection)
  }
  const analyzer = new Analyzer({policy, keys, onConnection})
  let summary: CaptureSummary
  try {
    if (options.gzip === true) {
      const gz = gzipSync(bytes)
      if (options.corruptGzipAt !== undefined && gz.length > 0) gz[options.corruptGzipAt % gz.length]! ^= 0x5a
      const split = options.splitAt === undefined ? gz.length : options.splitAt % (gz.length + 1)
      summary = await readCaptureStream(Readable.from([gz.subarray(0, split), gz.subarray(split)]), 'fuzz.pcap.gz', analyzer.sink)
    } else {
      const parser = createCaptureParser(analyzer.sink)
      const split = options.splitAt ?? bytes.length
      parser.push(bytes.subarray(0, split))
      if (split < bytes.length) parser.push(bytes.subarray(split))
      summary = parser.end()
    }
  } catch (err) {
    if (err instanceof CaptureFormatError) return {kind: 'capture-error', code: err.code, offset: err.offset}
    throw err
  }
  const report = analyzer.finish({kind: 'file', name: 'fuzz.pcap', capture: summary})
  const problems = validateReport(JSON.parse(renderJson(report)))
  if (problems.length > 0) throw new FuzzFinding(`report fails its JSON Schema: ${problems.slice(0, 3).join('; ')}`)
  // Streamed JSON: one document, valid, with every connection the summary counts.
  json.end(report)
  const streamed = JSON.parse(jsonText) as {connections: unknown[]; summary: {connections: number}}
  const streamedProblems = validateReport(streamed)
  if (streamedProblems.length > 0) throw new FuzzFinding(`streamed JSON fails its JSON Schema: ${streamedProblems.slice(0, 3).join('; ')}`)
  if (streamed.connections.length !== streamed.summary.connections) throw new FuzzFinding(`streamed JSON lists ${streamed.connections.length} of ${streamed.summary.connections} connections`)
  ndjsonLines.push(ndjsonSummaryLine(report))
  for (const line of ndjsonLines) {
    const lineProblems = validateNdjsonLine(JSON.parse(line))
    if (lineProblems.length > 0) throw new FuzzFinding(`streamed NDJSON line fails its JSON Schema: ${lineProblems.slice(0, 3).join('; ')}`)
  }
  renderNdjson(report)
  renderJunit(report)
  renderTable(report, {color: false, width: 100})
  renderTable(report, {color: true, width: 80}, digest)
  renderHtml(report)
  return {kind: 'report', connections: report.connections.length}
}
