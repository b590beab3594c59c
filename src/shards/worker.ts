/**
 * One shard's worker: reads the whole capture, analyses the connections of its shard (shard.ts),
 * and sends them as they are decided, a batch per chunk read (protocol.ts). Started by
 * analyze-sharded.ts for shards 1 to N-1.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {loadCaBundle} from '../analysis/cert-policy.js'
import {readCapture, type CaptureSummary} from '../capture/index.js'
import {loadKeyStore} from '../keys/store.js'
import {MAX_RECORDS_AHEAD, type ShardMessage, type ShardTask} from './protocol.js'
import {ShardAnalysis} from './shard.js'

const task = workerData as ShardTask
const port = parentPort!
const consumed = new Int32Array(task.consumed)
let posted = 0

function post(message: ShardMessage): void {
  port.postMessage(message)
}

/** Sends what was decided so far; waits while the merge is MAX_RECORDS_AHEAD records behind. */
function sendBatch(shard: ShardAnalysis, bytesRead: number, totalBytes: number | undefined): void {
  const {opens, decided, watermark} = shard.take()
  post({kind: 'batch', watermark, opens, decided, peaks: {...shard.analyzer.peaks}, bytesRead, totalBytes})
  posted += decided.length
  for (let taken = Atomics.load(consumed, 0); posted - taken > MAX_RECORDS_AHEAD; taken = Atomics.load(consumed, 0)) {
    Atomics.wait(consumed, 0, taken, 1000)
  }
}

async function run(): Promise<void> {
  // The key logs and the CA bundle were read by the command already (their warnings and errors
  // said there); read again here, where the connections are.
  const keys = (await loadKeyStore(task.keylogFiles)).store
  const ca = task.caFile === undefined ? undefined : loadCaBundle(task.caFile)
  const shard = new ShardAnalysis({...task, certificates: {ca}, keys})
  let bytesRead = 0
  let totalBytes: number | undefined
  let capture: CaptureSummary
  try {
    capture = await readCapture(task.input, shard.analyzer.sink, {
      readBytes: task.readBytes,
      onProgress: (read, total) => {
        bytesRead = read
        totalBytes = total
        sendBatch(shard, read, total)
      },
    })
  } catch (error) {
    // What was decided before the unreadable record is written, as one thread writes it.
    sendBatch(shard, bytesRead, totalBytes)
    throw error
  }
  shard.analyzer.endInput()
  sendBatch(shard, bytesRead, totalBytes)
  post(shard.end(task.input, capture))
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
