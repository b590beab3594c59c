/**
 * Mutation fuzzer for the whole analyze pipeline (issue 7: "nothing a user feeds it makes it
 * crash, hang or lie"). Usage:
 *
 *   npm run fuzz -- --time 60 [--seed N] [--workers 1] [--out DIR]
 *   npm run fuzz -- --replay FILE_INDEX:INPUT_SEED:DONOR_INDEX   (re-runs one finding)
 *
 * Each input is a fixture or corpus capture with a few havoc mutations (mutate.ts) run
 * through parser → Analyzer → checks → reports (target.ts), fed plain, gzip-compressed (some
 * corrupted) or with a fixture key log (some mutated) (input.ts). A crash is any exception other
 * than CaptureFormatError, or a report (whole or streamed) its JSON Schema rejects; a hang is an
 * input that took longer than --hang-ms (default 1000); a memory finding is an input after
 * which the worker's heap exceeds INPUT_HEAP_BYTES, or the heap after full GCs growing past
 * LEAK_BYTES over the run (worker.ts). A worker stuck for 10× --hang-ms is terminated and restarted.
 * Findings are written to --out (default $TMPDIR/defender-check-fuzz) as the input bytes plus
 * a .txt with the error; the closing lines give inputs/s, crashes, hangs and peak RSS.
 * Exit code 1 when anything was found.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {Worker} from 'node:worker_threads'
import {buildInput} from './input.js'
import {Rng} from './mutate.js'
import {keyLogPaths, loadKeyLogs, loadSeeds, seedPaths} from './seeds.js'
import {runPipeline} from './target.js'
import type {FindingKind, WorkerInput, WorkerMessage} from './worker.js'

const {values: args} = parseArgs({
  options: {
    time: {type: 'string', default: '60'},
    seed: {type: 'string'},
    workers: {type: 'string', default: '1'},
    out: {type: 'string', default: join(tmpdir(), 'defender-check-fuzz')},
    'hang-ms': {type: 'string', default: '1000'},
    replay: {type: 'string'},
  },
})

const paths = seedPaths()
const seeds = loadSeeds(paths)
const keyPaths = keyLogPaths()
const keyLogs = loadKeyLogs(keyPaths)

/** The input a worker built for (fileIndex, inputSeed, donorIndex): the same steps as worker.ts. */
function rebuild(fileIndex: number, inputSeed: number, donorIndex: number): ReturnType<typeof buildInput> {
  return buildInput(seeds, keyLogs, fileIndex, inputSeed, donorIndex)
}

if (args.replay !== undefined) {
  const [fileIndex, inputSeed, donorIndex] = args.replay.split(':').map(Number)
  const {data, options, via} = rebuild(fileIndex!, inputSeed!, donorIndex!)
  const started = performance.now()
  const outcome = await runPipeline(data, options)
  const heap = process.memoryUsage().heapUsed
  console.log(`${seeds[fileIndex!]!.name} seed ${inputSeed} (${via}): ${JSON.stringify(outcome)} in ${(performance.now() - started).toFixed(1)} ms, heap ${(heap / 2 ** 20).toFixed(0)} MiB`)
  process.exit(0)
}

const seconds = Number(args.time)
const hangMs = Number(args['hang-ms'])
const masterSeed = args.seed === undefined ? (Date.now() ^ (process.pid << 16)) >>> 0 : Number(args.seed) >>> 0
const workerCount = Math.max(1, Number(args.workers))
mkdirSync(args.out, {recursive: true})
console.log(
  `fuzz: ${seeds.length} seed captures and ${keyLogs.length} key logs (${(seeds.reduce((s, f) => s + f.bytes.length, 0) / 1e6).toFixed(1)} MB), ` +
    `${seconds} s, ${workerCount} worker(s), master seed ${masterSeed} (repeat with --seed ${masterSeed}), findings in ${args.out}`,
)

const totals = {inputs: 0, bytes: 0, captureErrors: 0, reports: 0, crashes: 0, hangs: 0, memory: 0, restarts: 0}
/** Each worker's latest heap after a full GC, the largest seen. */
let heapAfterGc = 0
let peakRss = process.memoryUsage().rss
const deadline = Date.now() + seconds * 1000
const masterRng = new Rng(masterSeed)
const seenFindings = new Set<string>()

function record(kind: FindingKind, fileIndex: number, inputSeed: number, donorIndex: number, ms: number, error: string | undefined): void {
  if (kind === 'crash') totals.crashes++
  else if (kind === 'hang') totals.hangs++
  else totals.memory++
  const key = `${kind}:${error?.split('\n').slice(0, 2).join('|') ?? fileIndex}`
  const id = `${fileIndex}:${inputSeed}:${donorIndex}`
  const name = `${kind}-${id.replaceAll(':', '-')}`
  const rebuilt = rebuild(fileIndex, inputSeed, donorIndex)
  writeFileSync(join(args.out, `${name}.pcap`), rebuilt.data)
  writeFileSync(join(args.out, `${name}.txt`), `${seeds[fileIndex]!.name}, ${rebuilt.via} (replay: --replay ${id}): ${ms.toFixed(0)} ms\n${error ?? ''}\n`)
  if (!seenFindings.has(key)) {
    seenFindings.add(key)
    console.log(`${kind.toUpperCase()} ${seeds[fileIndex]!.name} --replay ${id} (${ms.toFixed(0)} ms)${error ? `\n  ${error.split('\n').slice(0, 4).join('\n  ')}` : ''}`)
  }
}

function startWorker(): Promise<void> {
  return new Promise((resolve) => {
    const current = new SharedArrayBuffer(4 * 8)
    const watch = new Float64Array(current)
    const data: WorkerInput = {seed: masterRng.next(), paths, keyLogPaths: keyPaths, deadline, current, hangMs}
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: data,
      resourceLimits: {maxOldGenerationSizeMb: 2048},
    })
    let finished = false
    const watchdog = setInterval(() => {
      const rss = process.memoryUsage().rss
      if (rss > peakRss) peakRss = rss
      const started = watch[3]!
      if (started !== 0 && Date.now() - started > 10 * hangMs) {
        record('hang', watch[0]!, watch[1]!, watch[2]!, Date.now() - started, 'worker stuck: terminated')
        totals.restarts++
        finish(true)
      }
    }, 100)
    const finish = (restart: boolean): void => {
      if (finished) return
      finished = true
      clearInterval(watchdog)
      void worker.terminate()
      if (restart && Date.now() < deadline) void startWorker().then(resolve)
      else resolve()
    }
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'stats') {
        totals.inputs += message.inputs
        totals.bytes += message.bytes
        totals.captureErrors += message.captureErrors
        totals.reports += message.reports
        if (message.heapAfterGc !== undefined && message.heapAfterGc > heapAfterGc) heapAfterGc = message.heapAfterGc
      } else if (message.type === 'finding') {
        record(message.kind, message.fileIndex, message.inputSeed, message.donorIndex, message.ms, message.error)
      } else {
        finish(false)
      }
    })
    worker.on('error', (err) => {
      if (watch[3] === 0) {
        // Not inside an input: the harness itself is broken (a load error), not the code under test.
        console.error(`fuzz: worker failed outside any input: ${err.stack ?? err}`)
        process.exit(2)
      }
      // Out of memory in the worker, or an error outside the per-input try: a crash.
      record('crash', watch[0]!, watch[1]!, watch[2]!, watch[3] ? Date.now() - watch[3] : 0, err.stack ?? String(err))
      totals.restarts++
      finish(true)
    })
    worker.on('exit', () => finish(false))
  })
}

const started = Date.now()
const progress = setInterval(() => {
  const elapsed = (Date.now() - started) / 1000
  console.log(`  ${elapsed.toFixed(0)} s: ${totals.inputs} inputs (${(totals.inputs / elapsed).toFixed(0)}/s), ${totals.crashes} crashes, ${totals.hangs} hangs, ${totals.memory} memory, RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB peak, worker heap after GC ${(heapAfterGc / 2 ** 20).toFixed(0)} MiB`)
}, 30_000)
await Promise.all(Array.from({length: workerCount}, () => startWorker()))
clearInterval(progress)
const elapsed = (Date.now() - started) / 1000
// maxRSS (KiB) is the process's peak, workers included; the sampled RSS can miss short spikes.
peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024)
console.log(
  `fuzz done: ${totals.inputs} inputs in ${elapsed.toFixed(0)} s = ${(totals.inputs / elapsed).toFixed(0)} inputs/s ` +
    `(${(totals.bytes / elapsed / 1e6).toFixed(1)} MB/s; ${totals.reports} analysed, ${totals.captureErrors} rejected as corrupt files)`,
)
console.log(
  `crashes: ${totals.crashes}, hangs (> ${hangMs} ms): ${totals.hangs}, memory findings: ${totals.memory}, worker restarts: ${totals.restarts}, ` +
    `peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB, largest worker heap after GC: ${(heapAfterGc / 2 ** 20).toFixed(0)} MiB, master seed ${masterSeed}`,
)
process.exit(totals.crashes + totals.hangs + totals.memory > 0 ? 1 : 0)
