/**
 * What a capture's report keeps of its connections as they are decided, and the report it ends
 * with. The Analyzer feeds it as its tracker lets connections go; a sharded analysis's merge
 * (src/shards/) feeds it in that same order from its shards' records, so both make one report.
 * The caller counts each connection into `tally` and `defenders` (from the facts, or from a
 * shard's record) and lists it.
 */
import type {Issue} from '../issues.js'
import {DEFAULT_MAX_REPORTED_CONNECTIONS} from '../limits.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {Policy} from '../model/policy.js'
import type {CaptureReport, ConnectionReport, OtherTraffic, SourceInfo} from '../model/report.js'
import {DefenderViewBuilder} from './defenders.js'
import {newTally, summaryOf} from './tally.js'
import {TOOL_VERSION} from './version.js'

export interface DecidedConnectionsOptions {
  policy: Policy
  /** AnalyzerOptions.maxReportedConnections. */
  maxReportedConnections?: number
  /** AnalyzerOptions.onConnection. */
  onConnection?(report: ConnectionReport<ConnectionFacts>): void
  /** AnalyzerOptions.perDefender: false leaves the view out. */
  perDefender?: boolean
  maxDefenders?: number
}

export class DecidedConnections {
  readonly tally = newTally()
  /** The per-Defender view (undefined with perDefender: false). */
  readonly defenders?: DefenderViewBuilder
  private readonly reports: Array<ConnectionReport<ConnectionFacts>> = []
  private readonly maxReported: number

  constructor(private readonly options: DecidedConnectionsOptions) {
    this.maxReported = options.maxReportedConnections ?? DEFAULT_MAX_REPORTED_CONNECTIONS
    if (options.perDefender !== false) this.defenders = new DefenderViewBuilder({policy: options.policy, maxDefenders: options.maxDefenders})
  }

  /** A decided connection's report: handed to onConnection, and kept to be listed while there is room. */
  list(report: ConnectionReport<ConnectionFacts>): void {
    this.options.onConnection?.(report)
    if (this.reports.length < this.maxReported) this.reports.push(report)
  }

  /**
   * The report, once the input has ended: `source` is the capture's (its issues get the
   * connection-limit one when connections were left out and nobody was handed them), the servers
   * talked to instead when there was no Console connection, `lastTs` the capture's last packet.
   */
  report(source: SourceInfo, otherTraffic: () => OtherTraffic, lastTs: number | undefined): CaptureReport {
    const tally = this.tally
    const policy = this.options.policy
    // Connections are decided in the order the tracker lets go of them; the report lists them by id.
    const connections = this.reports.sort((a, b) => a.id - b.id)
    const omitted = tally.connections - connections.length
    if (omitted > 0 && this.options.onConnection === undefined) source.issues.push(connectionLimitIssue(tally.connections, omitted, this.maxReported))
    const report: CaptureReport = {schemaVersion: 1, tool: {name: 'defender-check', version: TOOL_VERSION}, source, policy, connections, summary: summaryOf(tally, policy)}
    if (tally.connections === 0) report.otherTraffic = otherTraffic()
    if (this.defenders !== undefined) report.defenders = this.defenders.view(lastTs)
    return report
  }
}

/** The issue of a report that lists fewer connections than it analysed. */
function connectionLimitIssue(analysed: number, omitted: number, listed: number): Issue {
  return {
    code: 'report.connection-limit',
    severity: 'warn',
    message: `${analysed} connections were analysed; the ${omitted} after the first ${listed} are counted in the summary and verdict but not listed (--format json or ndjson lists every connection; or narrow with --console or --port, or split the capture with editcap -c)`,
  }
}
