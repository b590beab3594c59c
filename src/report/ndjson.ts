/**
 * NDJSON for log pipelines (one JSON value per line, https://github.com/ndjson/ndjson-spec):
 * one line per connection, `{"type":"connection", ...ConnectionReport, "source": NAME}`, then,
 * when the report has the per-Defender view, one `{"type":"defender", ...DefenderReport,
 * "source": NAME}` line per Defender, then one `{"type":"summary", ...}` line. Shapes: $defs
 * ndjsonConnection / ndjsonDefender / ndjsonSummary in schema/report.schema.json. The lines can
 * be written one at a time as connections are decided (ndjsonConnectionLine), the Defenders'
 * and the summary at the end (ndjsonEndLines): the CLI streams them so. A Defender's line comes
 * at the end of the capture, not when its last connection ends: only then is it known to be
 * the last (a Defender that stops reconnecting is itself a finding of channel.stability).
 */
import type {DefenderReport} from '../model/defenders.js'
import type {AnalysisReport, ConnectionReport} from '../model/report.js'
import {stringifyWithoutDer} from './json.js'

export function renderNdjson(report: AnalysisReport): string {
  const source = report.source.name
  const lines = report.connections.map((connection) => ndjsonConnectionLine(connection, source))
  lines.push(...ndjsonEndLines(report))
  return lines.join('')
}

/**
 * What ends the stream once the capture is over, a line at a time: a line per Defender (when the
 * view is there), then the summary line.
 */
export function* ndjsonEndLines(report: AnalysisReport): Generator<string> {
  const source = report.source.name
  for (const defender of report.defenders?.defenders ?? []) yield ndjsonDefenderLine(defender, source)
  yield ndjsonSummaryLine(report)
}

/** One Defender's line, newline included. */
export function ndjsonDefenderLine(defender: DefenderReport, source: string): string {
  return `${stringifyWithoutDer({type: 'defender', ...defender, source})}\n`
}

/** One connection's line, newline included. */
export function ndjsonConnectionLine(connection: ConnectionReport, source: string): string {
  return `${stringifyWithoutDer({type: 'connection', ...connection, source})}\n`
}

/**
 * One connection's line from the connection's compact JSON (stringifyWithoutDer of the report, as
 * a sharded analysis's worker makes it): the same line as ndjsonConnectionLine, the type first
 * and the source last around the report's own members.
 */
export function ndjsonConnectionLineOfText(text: string, source: string): string {
  return `{"type":"connection",${text.slice(1, -1)},"source":${JSON.stringify(source)}}\n`
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
