/**
 * A saved capture analysed by several workers (`analyze --jobs N`), with the very report one
 * thread makes (analysis/analyze.ts): the same connection ids, in the same order, the same
 * summary, digest and per-Defender view, byte for byte in every format.
 *
 * Each worker (worker.ts) reads the whole file and tracks the connections whose ports hash to its
 * shard, so a connection and every copy of its packets stay in one worker, and what belongs to
 * the capture (frames, times, the snaplen, capture issues, Decryption Secrets Blocks) is read
 * alike by all. The merge here takes the decided connections of all workers in the order one
 * thread decides them, (frame that decided it, last frame), releasing one only once every other
 * worker has read past that frame. A connection's id is its place in the capture's open order:
 * the opens of all shards up to its own opening frame.
 *
 * What one tracker does across connections, its caps (maxConnections, the half-open cap, the
 * tombstones' cap), a shard cannot know. While the shards' peaks add up to no more than a cap, no
 * cap acted on the whole capture either, and every connection released so far is the one a
 * single thread would have decided. Once they might have (a capture with more open connections
 * than maxConnections), the workers are stopped and the capture is analysed again on this thread,
 * its first connections (those already handed on) not handed on twice: slower, never different.
 */
import {statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {pathToFileURL} from 'node:url'
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import {connectionLimitIssue, type AnalyzerOptions} from '../analysis/analyzer.js'
import {analyzeCapture} from '../analysis/analyze.js'
import {DefenderViewBuilder} from '../analysis/defenders.js'
import {countStatuses, newTally, summaryOf} from '../analysis/tally.js'
import {TOOL_VERSION} from '../analysis/version.js'
import {CaptureFormatError, type CaptureErrorCode} from '../capture/index.js'
import {InputError} from '../errors.js'
import {DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HALF_OPEN, DEFAULT_MAX_REPORTED_CONNECTIONS} from '../limits.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {CaptureReport, ConnectionReport} from '../model/report.js'
import type {ConnectionDigest, DigestPart} from '../report/digest.js'
import {MAX_TOMBSTONES} from '../stream/tombstone.js'
import type {TrackerPeaks} from '../stream/tracker.js'
import {withReportId, type DecidedRecord, type ShardDone, type ShardFailed, type ShardMessage, type ShardOutput, type ShardTask} from './protocol.js'

/** What the report does with each connection in a sharded run (cli/output.ts openReport). */
export interface ShardedReportOutput {
  kind: ShardOutput
  /** digest: the table's digest, filled from the workers' at the end. */
  digest?: ConnectionDigest
  /** text: each connection's compact JSON, its ids those of the whole capture, in the order decided. */
  onConnectionText?(text: string, id: number): void
}

export interface ShardedAnalysisOptions extends AnalyzerOptions {
  /** Workers (2 or more). */
  jobs: number
  output: ShardedReportOutput
  /** --ca and --keylog as given: each worker loads them (the caller has already, with its warnings). */
  caFile?: string
  keylogFiles: string[]
  onProgress?(bytesRead: number, totalBytes?: number): void
  readBytes?: number
  /** Told, in one line, when the run went on on one thread (a cap may have acted): the command says it on stderr. */
  onNote?(message: string): void
}

/** The cores there are: `--jobs`' default. */
export function defaultJobs(): number {
  return Math.min(MAX_JOBS, availableParallelism())
}

/** The most workers --jobs starts: each holds its own read buffers and reads the whole file. */
export const MAX_JOBS = 64

/**
 * Workers for `analyze INPUT`: what --jobs asked, or the cores for a file of SHARD_MIN_BYTES or
 * more; 1 for stdin and anything but a regular file (a pipe, a FIFO: it can be read only once).
 */
export function jobsFor(input: string, requested: number | undefined): number {
  if (input === '-' || requested === 1) return 1
  let size: number
  try {
    const stat = statSync(input)
    if (!stat.isFile()) return 1
    size = stat.size
  } catch {
    // The reader says what is wrong with it, as it does on one thread.
    return 1
  }
  if (requested !== undefined) return requested
  return size >= SHARD_MIN_BYTES ? defaultJobs() : 1
}

/**
 * Below this size a capture is analysed on one thread unless --jobs says otherwise: starting a
 * worker (~40 ms, node and the analysis's modules) costs more than it saves.
 */
export const SHARD_MIN_BYTES = 64 * 1024 * 1024

/**
 * The young generation of a worker's heap, in MB (V8's default is ~48): on bench file (b) with two
 * workers 8 MB took 295 MB peak RSS for 5.9 s, the default 378 MB for 5.8 s, 4 MB 280 MB for
 * 6.2 s. Connections that outlive a scavenge are most of what a worker allocates anyway.
 */
const WORKER_YOUNG_GENERATION_MB = 8

/** A cap may have acted on the whole capture: the run goes on on one thread. */
class CapMayHaveActed extends Error {}

/** One worker as the merge sees it. */
interface Shard {
  worker: Worker
  consumed: Int32Array
  /** Opening frames of the shard's connections, in open order (the shard's id - 1 indexes it). */
  opens: FrameList
  queue: DecidedRecord[]
  /** queue[head] is the next to release (the queue is compacted when it runs dry). */
  head: number
  taken: number
  watermark: number
  peaks: TrackerPeaks
  done?: ShardDone
  failed?: ShardFailed
}

export async function analyzeCaptureSharded(input: string, options: ShardedAnalysisOptions): Promise<CaptureReport> {
  const merge = new ShardMerge(input, options)
  const outcome = await merge.run()
  if (outcome !== 'cap') return outcome
  // Again on one thread: the connections already handed on are the first ones it decides.
  let skip = merge.released
  options.onNote?.(
    `the ${options.jobs} workers together held more connections than a cap allows (${merge.capsText()}), which one thread would have acted on: ` +
      `the capture is analysed again on one thread (the first ${skip} connections, already handed on, are not written twice)`,
  )
  const onConnection = options.onConnection
  return analyzeCapture(input, {
    ...options,
    onConnection:
      onConnection === undefined
        ? undefined
        : (report) => {
            if (skip > 0) skip--
            else onConnection(report)
          },
  })
}

class ShardMerge {
  /** Connections handed on so far (counted, and written when the format streams). */
  released = 0
  private readonly shards: Shard[] = []
  private readonly tally = newTally()
  private readonly defenders?: DefenderViewBuilder
  private readonly reports: Array<ConnectionReport<ConnectionFacts>> = []
  private readonly maxReported: number
  private readonly caps: TrackerPeaks

  constructor(
    private readonly input: string,
    private readonly options: ShardedAnalysisOptions,
  ) {
    this.maxReported = options.maxReportedConnections ?? DEFAULT_MAX_REPORTED_CONNECTIONS
    if (options.perDefender !== false) this.defenders = new DefenderViewBuilder({policy: options.policy, maxDefenders: options.maxDefenders})
    this.caps = {connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, halfOpen: options.maxHalfOpenConnections ?? DEFAULT_MAX_HALF_OPEN, tombstones: MAX_TOMBSTONES}
  }

  async run(): Promise<CaptureReport | 'cap'> {
    const options = this.options
    const script = workerScript()
    try {
      await new Promise<void>((resolve, reject) => {
        for (let index = 0; index < options.jobs; index++) {
          const consumed = new SharedArrayBuffer(4)
          const task: ShardTask = {
            input: this.input,
            index,
            count: options.jobs,
            output: options.output.kind,
            policy: options.policy,
            caFile: options.caFile,
            keylogFiles: options.keylogFiles,
            maxConnections: options.maxConnections,
            maxHalfOpenConnections: options.maxHalfOpenConnections,
            perDefender: options.perDefender !== false,
            readBytes: options.readBytes,
            consumed,
          }
          const worker = new Worker(script.code, {eval: script.eval, workerData: task, resourceLimits: {maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB}})
          const shard: Shard = {worker, consumed: new Int32Array(consumed), opens: new FrameList(), queue: [], head: 0, taken: 0, watermark: 0, peaks: {connections: 0, halfOpen: 0, tombstones: 0}}
          this.shards.push(shard)
          worker.on('message', (message: ShardMessage) => {
            try {
              if (this.receive(shard, message)) resolve()
            } catch (error) {
              reject(error)
            }
          })
          worker.on('error', reject)
          worker.on('exit', (code) => {
            if (shard.done === undefined && shard.failed === undefined) reject(new Error(`internal error: analysis worker ${index} stopped (exit code ${code}) before the end of the capture`))
          })
        }
      })
    } catch (error) {
      if (error instanceof CapMayHaveActed) return 'cap'
      throw error
    } finally {
      await Promise.all(this.shards.map((shard) => shard.worker.terminate()))
    }
    const failed = this.shards.find((shard) => shard.failed !== undefined)?.failed
    if (failed !== undefined) throw errorOf(failed)
    return this.report()
  }

  /** A worker's message; true once every worker has ended and everything is released. */
  private receive(shard: Shard, message: ShardMessage): boolean {
    switch (message.kind) {
      case 'batch':
        for (const frame of message.opens) shard.opens.push(frame)
        for (const record of message.decided) shard.queue.push(record)
        shard.watermark = message.watermark
        shard.peaks = message.peaks
        if (shard === this.shards[0]) this.options.onProgress?.(message.bytesRead, message.totalBytes)
        break
      case 'done':
        shard.done = message
        shard.peaks = message.peaks
        break
      case 'failed':
        shard.failed = message
        break
    }
    this.release()
    return this.shards.length === this.options.jobs && this.shards.every((s) => (s.done !== undefined || s.failed !== undefined) && s.head === s.queue.length)
  }

  /** Hands on every connection that comes next in one thread's order and is known to. */
  private release(): void {
    const shards = this.shards
    if (shards.length < this.options.jobs) return
    for (;;) {
      let next: Shard | undefined
      for (const shard of shards) {
        if (shard.head < shard.queue.length && (next === undefined || before(shard.queue[shard.head]!, next.queue[next.head]!))) next = shard
      }
      if (next === undefined) break
      const record = next.queue[next.head]!
      // Another worker may still decide a connection before it: it has not read that far.
      const waiting = shards.some((shard) => shard !== next && shard.head === shard.queue.length && shard.done === undefined && shard.failed === undefined && !(shard.watermark >= record.frame))
      if (waiting) break
      this.checkCaps()
      next.head++
      next.taken++
      if (next.head === next.queue.length) {
        next.queue = []
        next.head = 0
      }
      this.hand(next, record)
    }
    for (const shard of shards) {
      if (shard.taken === 0) continue
      Atomics.add(shard.consumed, 0, shard.taken)
      Atomics.notify(shard.consumed, 0)
      shard.taken = 0
    }
  }

  /** The caps, as the note of a run that went on on one thread says them. */
  capsText(): string {
    return `${this.caps.connections} connections, ${this.caps.halfOpen} half-open, ${this.caps.tombstones} closed ones remembered`
  }

  /** While the shards' peaks add up to no more than each cap, no cap has acted on the whole capture. */
  private checkCaps(): void {
    let connections = 0
    let halfOpen = 0
    let tombstones = 0
    for (const {peaks} of this.shards) {
      connections += peaks.connections
      halfOpen += peaks.halfOpen
      tombstones += peaks.tombstones
    }
    if (connections > this.caps.connections || halfOpen > this.caps.halfOpen || tombstones > this.caps.tombstones) throw new CapMayHaveActed()
  }

  /** One connection, in one thread's order: counted, into the view, and on to the report. */
  private hand(shard: Shard, record: DecidedRecord): void {
    const id = this.idOf(shard, record.id)
    this.released++
    countStatuses(this.tally, record.statuses, record)
    if (record.defender !== undefined) this.defenders?.addInput(record.defender, id)
    if (record.text !== undefined) {
      this.options.output.onConnectionText!(withReportId(record.text, record.id, id), id)
    } else if (record.report !== undefined) {
      const report = record.report as ConnectionReport<ConnectionFacts>
      report.id = id
      report.facts.id = id
      this.options.onConnection?.(report)
      if (this.reports.length < this.maxReported) this.reports.push(report)
    }
  }

  /** The id in the whole capture of a shard's connection: the opens of every shard up to its opening frame. */
  private idOf(shard: Shard, shardId: number): number {
    const frame = shard.opens.at(shardId - 1)
    let id = shardId
    for (const other of this.shards) if (other !== shard) id += other.opens.countUpTo(frame)
    return id
  }

  private report(): CaptureReport {
    this.checkCaps()
    const options = this.options
    const first = this.shards[0]!.done!
    const digest = options.output.digest
    if (digest !== undefined) {
      for (const shard of this.shards) digest.absorb(this.withIds(shard, shard.done!.digest!))
    }
    const connections = this.reports.sort((a, b) => a.id - b.id)
    const source = first.source
    const omitted = this.tally.connections - connections.length
    if (omitted > 0 && options.onConnection === undefined) source.issues.push(connectionLimitIssue(this.tally.connections, omitted, this.maxReported))
    const report: CaptureReport = {schemaVersion: 1, tool: {name: 'defender-check', version: TOOL_VERSION}, source, policy: options.policy, connections, summary: summaryOf(this.tally, options.policy)}
    if (this.tally.connections === 0) report.otherTraffic = first.otherTraffic
    if (this.defenders !== undefined) report.defenders = this.defenders.view(first.lastTs)
    return report
  }

  /** A shard's digest with the ids of the whole capture. */
  private withIds(shard: Shard, part: DigestPart): DigestPart {
    // A connection can be both among all and among the worst: the same object, renumbered once.
    const renumbered = new Set<ConnectionReport>()
    const renumber = (report: ConnectionReport): void => {
      if (renumbered.has(report)) return
      renumbered.add(report)
      report.id = this.idOf(shard, report.id)
      ;(report.facts as ConnectionFacts).id = report.id
    }
    for (const report of part.all ?? []) renumber(report)
    for (const report of part.worst) renumber(report)
    for (const reason of part.reasons) reason.connection = this.idOf(shard, reason.connection)
    return part
  }
}

/**
 * The worker's entry: dist/shards/worker.js as built, or, run from the TypeScript sources (bin/dev.js,
 * the tests, the bench), a script that registers tsx in the new thread (loader hooks are per
 * thread on Node 20) and imports worker.ts.
 */
function workerScript(): {code: string | URL; eval: boolean} {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return {code: new URL('./worker.js', here), eval: false}
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api')).href
  const worker = new URL('./worker.ts', here).href
  return {code: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}) })`, eval: true}
}

/** One thread's decision order: by the frame that decided, then (at the end of input) by last activity. */
function before(a: DecidedRecord, b: DecidedRecord): boolean {
  return a.frame < b.frame || (a.frame === b.frame && a.last < b.last)
}

/** A worker's error as the command reports it (one line naming the file and offset), or as the bug it is. */
function errorOf({error}: ShardFailed): Error {
  if (error.name === 'CaptureFormatError') return new CaptureFormatError(error.code as CaptureErrorCode, error.message, error.offset ?? 0, error.file)
  if (error.name === 'InputError') return new InputError(error.message, error.file, error.offset)
  const bug = new Error(error.message)
  if (error.stack !== undefined) bug.stack = error.stack
  return bug
}

/** Ascending frame numbers, growing: a shard's opening frames. */
class FrameList {
  private frames = new Float64Array(1024)
  length = 0

  push(frame: number): void {
    if (this.length === this.frames.length) {
      const grown = new Float64Array(this.frames.length * 2)
      grown.set(this.frames)
      this.frames = grown
    }
    this.frames[this.length++] = frame
  }

  at(index: number): number {
    return this.frames[index]!
  }

  /** How many are at most `frame`. */
  countUpTo(frame: number): number {
    let low = 0
    let high = this.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.frames[mid]! <= frame) low = mid + 1
      else high = mid
    }
    return low
  }
}
