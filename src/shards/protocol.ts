/**
 * What a sharded analysis's workers and its merge say to each other (worker.ts, analyze-sharded.ts).
 *
 * Every worker reads the whole capture and tracks only its shard of the connections (a hash of
 * the two ports, analysis/analyzer.ts shardOfPorts), so the capture's own facts (frame numbers,
 * times, the snaplen, capture issues, the keys of Decryption Secrets Blocks) are the same in
 * every worker, and nothing but decided connections has to cross between threads.
 */
import type {DefenderInput} from '../analysis/defenders.js'
import type {StatusCounts} from '../analysis/tally.js'
import type {ConnectionVerdict} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import type {ConnectionReport, OtherTraffic, SourceInfo} from '../model/report.js'
import type {DigestPart} from '../report/digest.js'
import type {TrackerPeaks} from '../stream/tracker.js'

/**
 * What a worker sends of each decided connection, by what the report needs:
 * - digest: nothing more (the table's digest is kept in the worker and merged at the end);
 * - text: the connection's compact JSON (NDJSON);
 * - item: the connection laid out as an item of the JSON document's connections (streamed JSON);
 * - report: the whole ConnectionReport (formats that keep every connection: junit, --all, --html).
 */
export type ShardOutput = 'digest' | 'text' | 'item' | 'report'

/** workerData of a shard's worker. */
export interface ShardTask {
  input: string
  index: number
  count: number
  output: ShardOutput
  policy: Policy
  caFile?: string
  keylogFiles: string[]
  maxConnections?: number
  maxHalfOpenConnections?: number
  perDefender: boolean
  readBytes?: number
  /** One Int32: records the merge has taken from this worker (Atomics), for backpressure. */
  consumed: SharedArrayBuffer
}

/** A decided connection as a worker sends it. */
export interface DecidedRecord {
  /** Where it was decided (DecidedConnection.frame) and its last frame: the merge orders by (frame, last). */
  frame: number
  last: number
  /** Its id in the worker's shard: the shard's open order (global ids are counted in the merge). */
  id: number
  verdict: ConnectionVerdict
  inconclusive?: ConnectionReport['inconclusive']
  statuses: StatusCounts
  defender?: DefenderInput
  /** output 'text' and 'item': the report as text (withReportId's layouts), its two ids (report.id, facts.id) the shard's. */
  text?: string
  /** output 'report'. */
  report?: ConnectionReport
}

/** A worker's progress: sent after each chunk of the capture, and at the end. */
export interface ShardBatch {
  kind: 'batch'
  /** Frames read whole so far: every decision at or before this frame has been sent. */
  watermark: number
  /** The frames that opened the shard's connections since the last batch, in open order. */
  opens: number[]
  decided: DecidedRecord[]
  peaks: TrackerPeaks
  bytesRead: number
  totalBytes?: number
}

/** The end of a worker's input: its last batch, then this. */
export interface ShardDone {
  kind: 'done'
  source: SourceInfo
  otherTraffic: OtherTraffic
  lastTs: number | undefined
  peaks: TrackerPeaks
  digest?: DigestPart
}

/** The worker could not go on (an unreadable record: every worker stops at the same one). */
export interface ShardFailed {
  kind: 'failed'
  error: {name: string; message: string; stack?: string; code?: string; file?: string; offset?: number}
}

export type ShardMessage = ShardBatch | ShardDone | ShardFailed

/** Records a worker may have sent and the merge not yet taken before the worker waits. */
export const MAX_RECORDS_AHEAD = 1024

/**
 * `text`, a report as a shard wrote it (compact, `{"id":N,…,"facts":{"id":N,…`, or as an item of
 * the JSON document's connections, `    {\n      "id": N,\n…      "facts": {\n        "id": N,`),
 * with both ids set to `id`. The first facts key after the head is the report's own facts: nothing
 * before it (addresses, ports, times) has a key named facts, and a string value cannot hold an
 * unescaped quote.
 */
export function withReportId(text: string, layout: ShardTextLayout, shardId: number, id: number): string {
  const [head, facts] = layout === 'compact' ? [`{"id":`, `,"facts":{"id":`] : [`    {\n      "id": `, `,\n      "facts": {\n        "id": `]
  const shardHead = `${head}${shardId}`
  const shardFacts = `${facts}${shardId}`
  const at = text.indexOf(shardFacts, shardHead.length)
  const next = text.charCodeAt(at + shardFacts.length)
  if (!text.startsWith(shardHead) || at === -1 || (next !== 0x2c && next !== 0x0a && next !== 0x7d)) {
    throw new Error(`internal error: a shard's connection ${shardId} has no ids where the report puts them`)
  }
  return `${head}${id}${text.slice(shardHead.length, at)}${facts}${id}${text.slice(at + shardFacts.length)}`
}

/** How a shard's text of a connection is laid out: compact (NDJSON) or as the JSON document's item. */
export type ShardTextLayout = 'compact' | 'item'
