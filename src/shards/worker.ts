/**
 * One shard's worker: reads the whole capture, analyses the connections of its shard, and sends
 * each as it is decided (protocol.ts). Started by analyze-sharded.ts.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {Analyzer} from '../analysis/analyzer.js'
import {loadCaBundle} from '../analysis/cert-policy.js'
import {defenderInputOf} from '../analysis/defenders.js'
import {statusCountsOf} from '../analysis/tally.js'
import {readCapture} from '../capture/index.js'
import {loadKeyStore} from '../keys/store.js'
import {tableDigest} from '../report/table.js'
import {stringifyWithoutDer} from '../report/json.js'
import {MAX_RECORDS_AHEAD, type DecidedRecord, type ShardMessage, type ShardTask} from './protocol.js'

const task = workerData as ShardTask
const port = parentPort!
const consumed = new Int32Array(task.consumed)
let posted = 0

let opens: number[] = []
let decided: DecidedRecord[] = []
const digest = task.output === 'digest' ? tableDigest() : undefined

function post(message: ShardMessage): void {
  port.postMessage(message)
}

/** Sends what was decided so far; waits while the merge is MAX_RECORDS_AHEAD records behind. */
function sendBatch(analyzer: Analyzer, bytesRead: number, totalBytes: number | undefined): void {
  post({kind: 'batch', watermark: analyzer.framesRead, opens, decided, peaks: {...analyzer.peaks}, bytesRead, totalBytes})
  posted += decided.length
  opens = []
  decided = []
  for (let taken = Atomics.load(consumed, 0); posted - taken > MAX_RECORDS_AHEAD; taken = Atomics.load(consumed, 0)) {
    Atomics.wait(consumed, 0, taken, 1000)
  }
}

async function run(): Promise<void> {
  // The key logs and the CA bundle were read by the command already (their warnings and errors
  // said there); read again here, where the connections are.
  const keys = (await loadKeyStore(task.keylogFiles)).store
  const ca = task.caFile === undefined ? undefined : loadCaBundle(task.caFile)
  const analyzer: Analyzer = new Analyzer({
    policy: task.policy,
    certificates: {ca},
    keys,
    maxConnections: task.maxConnections,
    maxHalfOpenConnections: task.maxHalfOpenConnections,
    maxReportedConnections: 0,
    // The merge decides what the report lists and says; the shard keeps nothing.
    onConnection: () => undefined,
    perDefender: false,
    shard: {index: task.index, count: task.count},
    onOpen: (frame) => opens.push(frame),
    onDecided: ({report, frame, lastDataTs, captureEndTs}) => {
      const record: DecidedRecord = {frame, last: report.facts.tcp.lastFrame, id: report.id, verdict: report.verdict, statuses: statusCountsOf(report)}
      if (report.inconclusive !== undefined) record.inconclusive = report.inconclusive
      if (task.perDefender) record.defender = defenderInputOf(report.facts, report.checks, report.verdict, lastDataTs, captureEndTs)
      if (task.output === 'text') record.text = stringifyWithoutDer(report)
      else if (task.output === 'report') record.report = report
      else digest!.add(report)
      decided.push(record)
    },
  })
  let bytesRead = 0
  let totalBytes: number | undefined
  let capture
  try {
    capture = await readCapture(task.input, analyzer.sink, {
      readBytes: task.readBytes,
      onProgress: (read, total) => {
        bytesRead = read
        totalBytes = total
        sendBatch(analyzer, read, total)
      },
    })
  } catch (error) {
    // What was decided before the unreadable record is written, as one thread writes it.
    sendBatch(analyzer, bytesRead, totalBytes)
    throw error
  }
  analyzer.endInput()
  sendBatch(analyzer, bytesRead, totalBytes)
  const end = analyzer.captureEnd()
  post({kind: 'done', source: analyzer.sourceInfo({kind: 'file', name: task.input, capture}), otherTraffic: end.otherTraffic, lastTs: end.lastTs, peaks: {...end.peaks}, digest: digest?.part()})
}

run().catch((error: unknown) => {
  const e: Error & {code?: unknown; file?: unknown; offset?: unknown} = error instanceof Error ? error : new Error(String(error))
  post({
    kind: 'failed',
    error: {
      name: e.name,
      message: e.message,
      stack: e.stack,
      code: typeof e.code === 'string' ? e.code : undefined,
      file: typeof e.file === 'string' ? e.file : undefined,
      offset: typeof e.offset === 'number' ? e.offset : undefined,
    },
  })
})
