/**
 * One shard's analysis: an Analyzer that tracks only the shard's connections, and what it decides
 * as the merge takes it (protocol.ts DecidedRecord). The same in a worker (worker.ts) and on the
 * command's own thread, which analyses shard 0 itself (analyze-sharded.ts).
 */
import {Analyzer} from '../analysis/analyzer.js'
import type {CertificateContext} from '../analysis/certificates.js'
import {defenderInputOf} from '../analysis/defenders.js'
import {statusCountsOf} from '../analysis/tally.js'
import type {CaptureSummary} from '../capture/index.js'
import type {KeyStore} from '../keys/store.js'
import type {Policy} from '../model/policy.js'
import type {ConnectionDigest} from '../report/digest.js'
import {connectionItemText, stringifyWithoutDer} from '../report/json.js'
import {tableDigest} from '../report/table.js'
import type {DecidedRecord, ShardDone, ShardOutput} from './protocol.js'

export interface ShardOptions {
  index: number
  count: number
  output: ShardOutput
  policy: Policy
  certificates?: CertificateContext
  keys: KeyStore
  maxConnections?: number
  maxHalfOpenConnections?: number
  perDefender: boolean
}

export class ShardAnalysis {
  readonly analyzer: Analyzer
  /** Opening frames and decided connections since the last take(). */
  private opens: number[] = []
  private decided: DecidedRecord[] = []
  private readonly digest?: ConnectionDigest

  constructor(options: ShardOptions) {
    if (options.output === 'digest') this.digest = tableDigest()
    this.analyzer = new Analyzer({
      policy: options.policy,
      certificates: options.certificates,
      keys: options.keys,
      maxConnections: options.maxConnections,
      maxHalfOpenConnections: options.maxHalfOpenConnections,
      maxReportedConnections: 0,
      // The merge decides what the report lists and says; the shard keeps nothing.
      onConnection: () => undefined,
      perDefender: false,
      shard: {index: options.index, count: options.count},
      onOpen: (frame) => this.opens.push(frame),
      onDecided: ({report, frame, lastDataTs, captureEndTs}) => {
        const record: DecidedRecord = {frame, last: report.facts.tcp.lastFrame, id: report.id, verdict: report.verdict, statuses: statusCountsOf(report)}
        if (report.inconclusive !== undefined) record.inconclusive = report.inconclusive
        if (options.perDefender) record.defender = defenderInputOf(report.facts, report.checks, report.verdict, lastDataTs, captureEndTs)
        if (options.output === 'text') record.text = stringifyWithoutDer(report)
        else if (options.output === 'item') record.text = connectionItemText(report)
        else if (options.output === 'report') record.report = report
        else this.digest!.add(report)
        this.decided.push(record)
      },
    })
  }

  /** What was opened and decided since the last call, and how far the shard has read. */
  take(): {opens: number[]; decided: DecidedRecord[]; watermark: number} {
    const taken = {opens: this.opens, decided: this.decided, watermark: this.analyzer.framesRead}
    this.opens = []
    this.decided = []
    return taken
  }

  /** The input has ended: the connections still open are decided (take() them), and the shard's end is told. */
  end(input: string, capture: CaptureSummary): ShardDone {
    const analyzer = this.analyzer
    const end = analyzer.captureEnd()
    return {kind: 'done', source: analyzer.sourceInfo({kind: 'file', name: input, capture}), otherTraffic: end.otherTraffic, lastTs: end.lastTs, peaks: {...analyzer.peaks}, digest: this.digest?.part()}
  }
}
