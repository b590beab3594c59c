/**
 * One fuzzing loop in a worker thread, so the main thread can watch the clock: it marks in
 * shared memory which input it is running and since when, and reports counts and findings.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {mutate, Rng} from './mutate.js'
import {loadSeeds} from './seeds.js'
import {runPipeline} from './target.js'

export interface WorkerInput {
  seed: number
  /** The seed files, as the main thread listed them (fixtures may be added while a run goes on). */
  paths: string[]
  deadline: number
  /** [seed file index, input seed, donor file index, start time in ms (0 = idle)] for the watchdog. */
  current: SharedArrayBuffer
  hangMs: number
}

export type WorkerMessage =
  | {type: 'stats'; inputs: number; bytes: number; captureErrors: number; reports: number}
  | {type: 'finding'; kind: 'crash' | 'hang'; fileIndex: number; inputSeed: number; donorIndex: number; ms: number; error?: string}
  | {type: 'done'}

const input = workerData as WorkerInput
const port = parentPort!
const seeds = loadSeeds(input.paths)
const current = new Float64Array(input.current)
const rng = new Rng(input.seed)
let inputs = 0
let bytes = 0
let captureErrors = 0
let reports = 0
let lastStats = Date.now()

while (Date.now() < input.deadline) {
  const fileIndex = rng.below(seeds.length)
  const inputSeed = rng.next()
  const seed = seeds[fileIndex]!
  const donorIndex = rng.below(seeds.length)
  const data = mutate(seed.bytes, inputSeed, seeds[donorIndex]!.bytes)
  const splitAt = data.length === 0 ? 0 : inputSeed % data.length
  current[0] = fileIndex
  current[1] = inputSeed
  current[2] = donorIndex
  const started = performance.now()
  current[3] = Date.now()
  try {
    const outcome = runPipeline(data, {policy: (inputSeed & 1) as 0 | 1, splitAt})
    if (outcome.kind === 'report') reports++
    else captureErrors++
  } catch (err) {
    port.postMessage({type: 'finding', kind: 'crash', fileIndex, inputSeed, donorIndex, ms: performance.now() - started, error: err instanceof Error ? (err.stack ?? err.message) : String(err)} satisfies WorkerMessage)
  }
  current[3] = 0
  const ms = performance.now() - started
  if (ms > input.hangMs) port.postMessage({type: 'finding', kind: 'hang', fileIndex, inputSeed, donorIndex, ms} satisfies WorkerMessage)
  inputs++
  bytes += data.length
  if (Date.now() - lastStats >= 500) {
    port.postMessage({type: 'stats', inputs, bytes, captureErrors, reports} satisfies WorkerMessage)
    inputs = bytes = captureErrors = reports = 0
    lastStats = Date.now()
  }
}
port.postMessage({type: 'stats', inputs, bytes, captureErrors, reports} satisfies WorkerMessage)
port.postMessage({type: 'done'} satisfies WorkerMessage)
