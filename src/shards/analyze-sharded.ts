/**
 * A saved capture analysed in several shards (`analyze --jobs N`), with the very report one
 * thread makes (analysis/analyze.ts): the same connection ids, in the same order, the same
 * summary, digest and per-Defender view, byte for byte in every format.
 *
 * N shards: shard 0 on the command's own thread, the others each in a worker (worker.ts). Each
 * reads the whole file and tracks the connections whose ports hash to it (shard.ts), so a
 * connection and every copy of its packets stay in one shard, and what belongs to the capture
 * (frames, times, the snaplen, capture issues, Decryption Secrets Blocks) is read alike by all.
 * The merge here takes the decided connections of all shards in the order one thread decides
 * them, (frame that decided it, last frame), releasing one only once every other shard has read
 * past that frame. A connection's id is its place in the capture's open order: the opens of all
 * shards up to its own opening frame.
 *
 * What one tracker does across connections, its caps (maxConnections, the half-open cap, the
 * tombstones' cap), a shard cannot know. While the shards' peaks up to a frame add up to no more
 * than a cap, no cap acted on the whole capture up to that frame either, and every connection
 * decided there is the one a single thread would have decided. Once they might have (a capture
 * with more open connections than maxConnections), the workers are stopped and the capture is
 * analysed again on this thread, its first connections (those already handed on) not handed on
 * twice: slower, never different.
 */
import {createRequire} from 'node:module'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'
import {analyzeCapture, type AnalyzeCaptureOptions} from '../analysis/analyze.js'
import {DecidedConnections} from '../analysis/decided.js'
import {countStatuses} from '../analysis/tally.js'
import {InputError} from '../errors.js'
import {DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HALF_OPEN} from '../limits.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {CaptureReport, ConnectionReport} from '../model/report.js'
import type {ConnectionDigest, DigestPart} from '../report/digest.js'
import {MAX_TOMBSTONES} from '../stream/tombstone.js'
import type {TrackerPeaks} from '../stream/tracker.js'
import {MAX_RECORDS_AHEAD, withReportId, type DecidedRecord, type ShardDone, type ShardFailed, type ShardMessage, type ShardOutput, type ShardTask} from './protocol.js'
import {ShardAnalysis} from './shard.js'
import {CaptureFormatError, readCapture, type CaptureErrorCode, type CaptureSummary} from '../capture/index.js'
import {loadKeyStore} from '../keys/store.js'

/** What the report does with each connection in a sharded run (cli/output.ts openReport). */
export interface ShardedReportOutput {
  kind: ShardOutput
  /** digest: the table's digest, filled from the shards' at the end. */
  digest?: ConnectionDigest
  /** text, item: each connection's text (compact, or laid out as the JSON document's item), its ids those of the whole capture, in the order decided. */
  onConnectionText?(text: string, id: number): void
}

export interface ShardedAnalysisOptions extends AnalyzeCaptureOptions {
  /** Shards (this thread's and a worker per other one). */
  jobs: number
  output: ShardedReportOutput
  /**
   * --ca and --keylog as given: each worker loads them again (the caller has, with its warnings,
   * into `certificates` and `keys`, which this thread's shard uses).
   */
  caFile?: string
  keylogFiles: string[]
  /** Told, in one line, when the run went on on one thread (a cap may have acted): the command says it on stderr. */
  onNote?(message: string): void
}

/**
 * The young generation of a worker's heap, in MB (V8's default is ~48): on bench file (b) with two
 * shards in workers 8 MB took 295 MB peak RSS for 5.9 s, the default 378 MB for 5.8 s, 4 MB 280 MB for
 * 6.2 s. Connections that outlive a scavenge are most of what a worker allocates anyway.
 */
const WORKER_YOUNG_GENERATION_MB = 8

/** A cap may have acted on the whole capture: the run goes on on one thread. */
class CapMayHaveActed extends Error {}

/** Released records at the head of a shard's queue before it is compacted. */
const QUEUE_COMPACT_AT = 256

/** A shard as the merge sees it: shard 0 on this thread, the others each a worker. */
interface Shard {
  worker?: Worker
  /** One Int32 shared with the worker: records taken from it (its backpressure). */
  consumed?: Int32Array
  /** Opening frames of the shard's connections, in open order (the shard's id - 1 indexes it). */
  opens: FrameList
  queue: DecidedRecord[]
  /** queue[head] is the next to release (the released ones before it are cut off now and then). */
  head: number
  taken: number
  watermark: number
  /**
   * The shard's tracker peaks as it reported them at each watermark (a batch per chunk read, and
   * Infinity at the end): a release at frame F is judged by each shard's first checkpoint at or
   * past F. Where the checkpoints fall depends on the chunks, not on which thread ran ahead, so
   * whether and where a run goes on on one thread is the same every time.
   */
  checkpoints: Array<{watermark: number; peaks: TrackerPeaks}>
  done?: ShardDone
  /** It could not read on (an unreadable record: every shard stops at the same one). */
  failure?: Error
}

export async function analyzeCaptureSharded(input: string, options: ShardedAnalysisOptions): Promise<CaptureReport> {
  const merge = new ShardMerge(input, options)
  const outcome = await merge.run()
  if (outcome !== 'cap') return outcome
  // Again on one thread: the connections already handed on are the first ones it decides.
  let skip = merge.released
  options.onNote?.(
    `the ${options.jobs} shards together held more connections than a cap allows (${merge.capsText()}), which one thread would have acted on: ` +
      `the capture is analysed again on one thread (the first ${skip} connections, already handed on, are not written twice)`,
  )
  const onConnection = options.onConnection
  // A key store of its own: this thread's shard has added the capture's Decryption Secrets Blocks to the caller's.
  const keys = (await loadKeyStore(options.keylogFiles)).store
  return analyzeCapture(input, {
    ...options,
    keys,
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
  /** The decided connections, in one thread's order: the tally, the per-Defender view, the listed ones. */
  private readonly decided: DecidedConnections
  private readonly caps: TrackerPeaks
  /** The workers' end: resolved once every shard has ended and everything is released. */
  private settle?: {resolve(): void; reject(error: unknown): void}
  /** Why the run stopped before the end (a cap that may have acted, a worker's crash). */
  private stopped: unknown
  /** This thread's read, waiting for the workers to catch up (readLocal). */
  private caughtUp?: () => void

  constructor(
    private readonly input: string,
    private readonly options: ShardedAnalysisOptions,
  ) {
    this.decided = new DecidedConnections(options)
    this.caps = {connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, halfOpen: options.maxHalfOpenConnections ?? DEFAULT_MAX_HALF_OPEN, tombstones: MAX_TOMBSTONES}
  }

  async run(): Promise<CaptureReport | 'cap'> {
    const options = this.options
    // Shard 0 is analysed here, on the command's thread (readLocal), shards 1 to N-1 by workers.
    const local: Shard = {opens: new FrameList(), queue: [], head: 0, taken: 0, watermark: 0, checkpoints: []}
    this.shards.push(local)
    const workersEnded = new Promise<void>((resolve, reject) => {
      this.settle = {resolve, reject}
    })
    // Settled by a worker's message, perhaps while this thread is still reading: seen when awaited.
    workersEnded.catch(() => undefined)
    const script = workerScript()
    try {
      for (let index = 1; index < options.jobs; index++) this.startWorker(script, index)
      await this.readLocal(local)
      await workersEnded
    } catch (error) {
      if (error instanceof CapMayHaveActed) return 'cap'
      throw error
    } finally {
      await Promise.all(this.shards.map((shard) => shard.worker?.terminate()))
    }
    const failure = this.shards.find((shard) => shard.failure !== undefined)?.failure
    if (failure !== undefined) throw failure
    return this.report()
  }

  /** A worker for shard `index`, its messages taken as they come. */
  private startWorker(script: {code: string | URL; eval: boolean}, index: number): void {
    const options = this.options
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
    const shard: Shard = {worker, consumed: new Int32Array(consumed), opens: new FrameList(), queue: [], head: 0, taken: 0, watermark: 0, checkpoints: []}
    this.shards.push(shard)
    worker.on('message', (message: ShardMessage) => {
      try {
        this.receive(shard, message)
      } catch (error) {
        this.stop(error)
      }
    })
    worker.on('error', (error) => this.stop(error))
    worker.on('exit', (code) => {
      if (shard.done === undefined && shard.failure === undefined) this.stop(new Error(`internal error: analysis worker ${index} stopped (exit code ${code}) before the end of the capture`))
    })
  }

  /** Shard 0, read and analysed on this thread; what it decides is released as each chunk is read. */
  private async readLocal(shard: Shard): Promise<void> {
    const options = this.options
    // The caller's store, loaded once by the command (a run again on one thread loads its own).
    const keys = options.keys ?? (await loadKeyStore(options.keylogFiles)).store
    const analysis = new ShardAnalysis({index: 0, count: options.jobs, output: options.output.kind, policy: options.policy, certificates: options.certificates, keys, maxConnections: options.maxConnections, maxHalfOpenConnections: options.maxHalfOpenConnections, perDefender: options.perDefender !== false})
    const take = (): void => {
      const {opens, decided, watermark} = analysis.take()
      for (const frame of opens) shard.opens.push(frame)
      for (const record of decided) shard.queue.push(record)
      shard.watermark = watermark
      shard.checkpoints.push({watermark, peaks: {...analysis.analyzer.peaks}})
    }
    let capture: CaptureSummary
    try {
      capture = await readCapture(this.input, analysis.analyzer.sink, {
        readBytes: options.readBytes,
        onProgress: (read, total) => {
          if (this.stopped !== undefined) throw this.stopped
          take()
          options.onProgress?.(read, total)
          this.release()
          // Ahead of the workers by more than a worker may be ahead of this thread: wait for them
          // (their messages are taken meanwhile) rather than hold its connections.
          if (shard.queue.length - shard.head > MAX_RECORDS_AHEAD) return new Promise<void>((resolve) => (this.caughtUp = resolve))
          return undefined
        },
      })
    } catch (error) {
      if (error === this.stopped || error instanceof CapMayHaveActed) throw error
      // An unreadable record: the workers stop at the same one; what was decided before it is handed on.
      take()
      shard.failure = error as Error
      this.release()
      return
    }
    analysis.analyzer.endInput()
    take()
    shard.done = analysis.end(this.input, capture)
    shard.checkpoints.push({watermark: Infinity, peaks: shard.done.peaks})
    this.release()
  }

  /** The run cannot go on with its workers (a cap, a worker's crash): this thread's read stops at its next chunk. */
  private stop(error: unknown): void {
    this.stopped ??= error
    this.settle?.reject(error)
    // This thread's read, if it waits for the workers, goes on to its next chunk and stops there.
    this.caughtUp?.()
    this.caughtUp = undefined
  }

  /** A worker's message. */
  private receive(shard: Shard, message: ShardMessage): void {
    switch (message.kind) {
      case 'batch':
        for (const frame of message.opens) shard.opens.push(frame)
        for (const record of message.decided) shard.queue.push(record)
        shard.watermark = message.watermark
        shard.checkpoints.push({watermark: message.watermark, peaks: message.peaks})
        break
      case 'done':
        shard.done = message
        shard.checkpoints.push({watermark: Infinity, peaks: message.peaks})
        break
      case 'failed':
        shard.failure = errorOf(message)
        break
    }
    this.release()
  }

  /** Hands on every connection that comes next in one thread's order and is known to. */
  private release(): void {
    const shards = this.shards
      for (;;) {
      let next: Shard | undefined
      for (const shard of shards) {
        if (shard.head < shard.queue.length && (next === undefined || before(shard.queue[shard.head]!, next.queue[next.head]!))) next = shard
      }
      if (next === undefined) break
      const record = next.queue[next.head]!
      // Another shard may still decide a connection before it: it has not read that far.
      const waiting = shards.some((shard) => shard !== next && shard.head === shard.queue.length && shard.done === undefined && shard.failure === undefined && !(shard.watermark >= record.frame))
      if (waiting) break
      this.checkCaps(record.frame)
      next.head++
      next.taken++
      // Released records are let go of: a shard that stays ahead never runs its queue dry.
      if (next.head === next.queue.length || next.head >= QUEUE_COMPACT_AT) {
        next.queue = next.queue.slice(next.head)
        next.head = 0
      }
      this.hand(next, record)
    }
    const local = shards[0]!
    if (this.caughtUp !== undefined && (local.queue.length - local.head <= MAX_RECORDS_AHEAD / 2 || this.stopped !== undefined)) {
      this.caughtUp()
      this.caughtUp = undefined
    }
    for (const shard of shards) {
      if (shard.taken === 0 || shard.consumed === undefined) continue
      Atomics.add(shard.consumed, 0, shard.taken)
      Atomics.notify(shard.consumed, 0)
      shard.taken = 0
    }
    if (shards.every((shard) => shard === shards[0] || ((shard.done !== undefined || shard.failure !== undefined) && shard.head === shard.queue.length))) this.settle?.resolve()
  }

  /** The caps, as the note of a run that went on on one thread says them. */
  capsText(): string {
    return `${this.caps.connections} connections, ${this.caps.halfOpen} half-open, ${this.caps.tombstones} closed ones remembered`
  }

  /**
   * While the shards' peaks up to `frame` add up to no more than each cap, no cap has acted on the
   * whole capture up to there, and what was decided there is what one thread decides.
   */
  private checkCaps(frame: number): void {
    let connections = 0
    let halfOpen = 0
    let tombstones = 0
    for (const shard of this.shards) {
      const checkpoints = shard.checkpoints
      // Those before the frame will not be asked for again: releases come in frame order.
      while (checkpoints.length > 1 && checkpoints[0]!.watermark < frame) checkpoints.shift()
      // A shard that stopped short (an unreadable record) read no further: its last peaks are all it had.
      const peaks = checkpoints[0]?.peaks
      if (peaks === undefined) continue
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
    countStatuses(this.decided.tally, record.statuses, record)
    if (record.defender !== undefined) this.decided.defenders?.addInput(record.defender, id)
    if (record.text !== undefined) {
      this.options.output.onConnectionText!(withReportId(record.text, this.options.output.kind === 'item' ? 'item' : 'compact', record.id, id), id)
    } else if (record.report !== undefined) {
      const report = record.report as ConnectionReport<ConnectionFacts>
      report.id = id
      report.facts.id = id
      this.decided.list(report)
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
    this.checkCaps(Infinity)
    const options = this.options
    const first = this.shards[0]!.done!
    const digest = options.output.digest
    if (digest !== undefined) {
      for (const shard of this.shards) digest.absorb(this.withIds(shard, shard.done!.digest!))
    }
    return this.decided.report(first.source, () => first.otherTraffic, first.lastTs)
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
