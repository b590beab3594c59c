/**
 * NDJSON for log pipelines (one JSON value per line, https://github.com/ndjson/ndjson-spec):
 * one line per connection, `{"type":"connection", ...ConnectionReport, "source": NAME}`, then
 * one `{"type":"summary", ...}` line. Shapes: $defs ndjsonConnection / ndjsonSummary in
 * schema/report.schema.json.
 */
import type {AnalysisReport} from '../analysis/types.js'
import {withoutDer} from './json.js'

export function renderNdjson(report: AnalysisReport): string {
  const source = report.source.name
  const lines = report.connections.map((connection) => JSON.stringify({type: 'connection', ...connection, source}, withoutDer))
  const summary: Record<string, unknown> = {
    type: 'summary',
    schemaVersion: report.schemaVersion,
    tool: report.tool,
    source,
    policy: report.policy,
    ...report.summary,
  }
  if (report.otherTraffic !== undefined) summary.otherTraffic = report.otherTraffic
  lines.push(JSON.stringify(summary, withoutDer))
  return `${lines.join('\n')}\n`
}
