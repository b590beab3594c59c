/**
 * NDJSON for log pipelines (one JSON value per line, https://github.com/ndjson/ndjson-spec):
 * one line per connection, `{"type":"connection", ...ConnectionReport, "source": NAME}`, then
 * one `{"type":"summary", ...}` line. Shapes: $defs ndjsonConnection / ndjsonSummary in
 * schema/report.schema.json. The lines can be written one at a time as connections are decided
 * (ndjsonConnectionLine), the summary last (ndjsonSummaryLine): the CLI streams them so.
 */
import type {AnalysisReport, ConnectionReport} from '../model/report.js'
import {stringifyWithoutDer} from './json.js'

export function renderNdjson(report: AnalysisReport): string {
  const source = report.source.name
  const lines = report.connections.map((connection) => ndjsonConnectionLine(connection, source))
  lines.push(ndjsonSummaryLine(report))
  return lines.join('')
}

/** One connection's line, newline included. */
export function ndjsonConnectionLine(connection: ConnectionReport, source: string): string {
  return `${stringifyWithoutDer({type: 'connection', ...connection, source})}\n`
}

/** The summary line that ends the stream, newline included. */
export function ndjsonSummaryLine(report: AnalysisReport): string {
  const summary: Record<string, unknown> = {
    type: 'summary',
    schemaVersion: report.schemaVersion,
    tool: report.tool,
    source: report.source.name,
    policy: report.policy,
    ...report.summary,
  }
  if (report.otherTraffic !== undefined) summary.otherTraffic = report.otherTraffic
  return `${stringifyWithoutDer(summary)}\n`
}
