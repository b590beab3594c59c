/**
 * The fuzz target: capture bytes through the whole analyze pipeline in-process, the path
 * `defender-check analyze FILE` takes minus the file read: capture parser → Analyzer (decoders,
 * tracker, reassembly, TLS) → checks → every report format, and the report against the JSON
 * Schema. A CaptureFormatError is the one expected failure (a corrupt file is exit 2); any other
 * exception, or a report the schema rejects, is a finding.
 */
import {Analyzer} from '../src/analysis/analyzer.js'
import {buildPolicy} from '../src/analysis/policy.js'
import {createCaptureParser} from '../src/capture/parser.js'
import {CaptureFormatError} from '../src/capture/types.js'
import {renderJson} from '../src/report/json.js'
import {renderJunit} from '../src/report/junit.js'
import {renderNdjson} from '../src/report/ndjson.js'
import {validateReport} from '../src/report/schema.js'
import {renderTable} from '../src/report/table.js'

/** Every TCP port, so corpus captures on 443 and other ports reach TLS too; and the Console port. */
const POLICIES = [buildPolicy({ports: ['any'], minTls: '1.2'}), buildPolicy({})]

export type Outcome = {kind: 'report'; connections: number} | {kind: 'capture-error'; code: string; offset: number}

/** A finding: the pipeline threw something that is not ours, or lied in its report. */
export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding'
}

/**
 * Runs `bytes` through the pipeline, split into chunks at `splitAt` (readers must not care
 * where chunks split). Throws whatever escapes that is not a CaptureFormatError.
 */
export function runPipeline(bytes: Uint8Array, options: {policy?: 0 | 1; splitAt?: number} = {}): Outcome {
  const policy = POLICIES[options.policy ?? 0]!
  const analyzer = new Analyzer({policy})
  const parser = createCaptureParser(analyzer.sink)
  let summary
  try {
    const split = options.splitAt ?? bytes.length
    parser.push(bytes.subarray(0, split))
    if (split < bytes.length) parser.push(bytes.subarray(split))
    summary = parser.end()
  } catch (err) {
    if (err instanceof CaptureFormatError) return {kind: 'capture-error', code: err.code, offset: err.offset}
    throw err
  }
  const report = analyzer.finish({kind: 'file', name: 'fuzz.pcap', capture: summary})
  const json = renderJson(report)
  const problems = validateReport(JSON.parse(json))
  if (problems.length > 0) throw new FuzzFinding(`report fails its JSON Schema: ${problems.slice(0, 3).join('; ')}`)
  renderNdjson(report)
  renderJunit(report)
  renderTable(report, {color: false, width: 100})
  return {kind: 'report', connections: report.connections.length}
}
