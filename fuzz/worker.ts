/**
 * One fuzzing loop in a worker thread, so the main thread can watch the clock: it marks in
 * shared memory which input it is running and since when, and reports counts and findings.
 *
 * Memory is watched as well as time (issue 16: "flag memory growth, not only out-of-memory"):
 * (heap = the JS heap plus the buffers held outside it)
 * - an input after which this worker's heap holds more than INPUT_HEAP_BYTES (before any
 *   collection) is a 'memory' finding: bounded lists keep one input's analysis far below it;
 * - every GC_EVERY inputs the heap is measured after a full collection; once it has grown past
 *   the first such measurement by more than LEAK_BYTES, that is a 'memory' finding (state kept
 *   across inputs: a cache or a module-level list that grows).
 */
import {setFlagsFromString, getHeapStatistics} from 'node:v8'
import {runInNewContext} from 'node:vm'
import {parentPort, workerData} from 'node:worker_threads'
import {buildInput} from './input.js'
import {Rng} from './mutate.js'
import {loadKeyLogs, loadSeeds} from './seeds.js'
import {runPipeline} from './target.js'

export interface WorkerInput {
  seed: number
  /** The seed files, as the main thread listed them (fixtures may be added while a run goes on). */
  paths: string[]
  keyLogPaths: string[]
  deadline: number
  /** [seed file index, input seed, donor file index, start time in ms (0 = idle)] for the watchdog. */
  current: SharedArrayBuffer
  hangMs: number
}

export type FindingKind = 'crash' | 'hang' | 'memory'

export type WorkerMessage =
  | {type: 'stats'; inputs: number; bytes: number; captureErrors: number; reports: number; heapAfterGc?: number}
  | {type: 'finding'; kind: FindingKind; fileIndex: number; inputSeed: number; donorIndex: number; ms: number; error?: string}
  | {type: 'done'}

/** One input's analysis holding more than this (a few MiB is usual) means a list is unbounded. */
export const INPUT_HEAP_BYTES = 384 * 2 ** 20
const GC_EVERY = 2000
export const LEAK_BYTES = 64 * 2 ** 20

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const input = workerData as WorkerInput
const port = parentPort!
const seeds = loadSeeds(input.paths)
const keyLogs = loadKeyLogs(input.keyLogPaths)
const current = new Float64Array(input.current)
const rng = new Rng(input.seed)
let inputs = 0
let bytes = 0
let captureErrors = 0
let reports = 0
let lastStats = Date.now()
let done = 0
let baselineHeap: number | undefined
let heapAfterGc: number | undefined

/** This worker's memory: its JS heap and the buffers it holds outside it (ArrayBuffers, zlib). */
function heapBytes(): number {
  const stats = getHeapStatistics()
  return stats.used_heap_size + stats.external_memory
}

/** The heap after a full GC grew past the first such measurement by LEAK_BYTES: said once per growth. */
function leak(kept: number, fileIndex: number, inputSeed: number, donorIndex: number): void {
  finding('memory', fileIndex, inputSeed, donorIndex, 0, `heap after a full GC grew from ${((baselineHeap ?? 0) / 2 ** 20).toFixed(0)} to ${(kept / 2 ** 20).toFixed(0)} MiB over ${done} inputs (bound +${LEAK_BYTES / 2 ** 20} MiB): state kept across inputs (the input named is only the last one)`)
  baselineHeap = kept
  heapAfterGc = kept
}

function finding(kind: FindingKind, fileIndex: number, inputSeed: number, donorIndex: number, ms: number, error?: string): void {
  port.postMessage({type: 'finding', kind, fileIndex, inputSeed, donorIndex, ms, error} satisfies WorkerMessage)
}

while (Date.now() < input.deadline) {
  const fileIndex = rng.below(seeds.length)
  const inputSeed = rng.next()
  const donorIndex = rng.below(seeds.length)
  const {data, options} = buildInput(seeds, keyLogs, fileIndex, inputSeed, donorIndex)
  current[0] = fileIndex
  current[1] = inputSeed
  current[2] = donorIndex
  const started = performance.now()
  current[3] = Date.now()
  try {
    const outcome = await runPipeline(data, options)
    if (outcome.kind === 'report') reports++
    else captureErrors++
  } catch (err) {
    finding('crash', fileIndex, inputSeed, donorIndex, performance.now() - started, err instanceof Error ? (err.stack ?? err.message) : String(err))
  }
  current[3] = 0
  const ms = performance.now() - started
  if (ms > input.hangMs) finding('hang', fileIndex, inputSeed, donorIndex, ms)
  inputs++
  done++
  bytes += data.length
  const heap = heapBytes()
  if (heap > (heapAfterGc ?? 0) + INPUT_HEAP_BYTES) {
    // Garbage of this input, or kept from all of them? A full collection tells.
    gc()
    const kept = heapBytes()
    if (kept - (heapAfterGc ?? 0) > LEAK_BYTES) leak(kept, fileIndex, inputSeed, donorIndex)
    else finding('memory', fileIndex, inputSeed, donorIndex, ms, `heap ${(heap / 2 ** 20).toFixed(0)} MiB after this input, ${(kept / 2 ** 20).toFixed(0)} MiB after a full GC (bound: ${INPUT_HEAP_BYTES / 2 ** 20} MiB for one input)`)
  } else if (done % GC_EVERY === 0) {
    gc()
    const kept = heapBytes()
    if (baselineHeap !== undefined && kept - baselineHeap > LEAK_BYTES) leak(kept, fileIndex, inputSeed, donorIndex)
    else heapAfterGc = kept
    baselineHeap ??= kept
  }
  if (Date.now() - lastStats >= 500) {
    port.postMessage({type: 'stats', inputs, bytes, captureErrors, reports, heapAfterGc} satisfies WorkerMessage)
    inputs = bytes = captureErrors = reports = 0
    lastStats = Date.now()
  }
}
port.postMessage({type: 'stats', inputs, bytes, captureErrors, reports, heapAfterGc} satisfies WorkerMessage)
port.postMessage({type: 'done'} satisfies WorkerMessage)
