/**
 * Choosing a format and writing the rendered report: shared by every command. No oclif here,
 * only the decisions a user expects: a table on a terminal, JSON when piped, the format implied
 * by --output's extension, colour only on a colour terminal (NO_COLOR honoured).
 */
import {closeSync, openSync, writeSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import type {AnalyzerOptions} from '../analysis/analyzer.js'
import type {AnalysisReport} from '../model/report.js'
import {TOOL_VERSION} from '../analysis/version.js'
import type {Policy} from '../model/policy.js'
import {InputError} from '../errors.js'
import type {ConnectionDigest} from '../report/digest.js'
import {JsonReportStream, renderJson} from '../report/json.js'
import {renderJunit} from '../report/junit.js'
import {ndjsonConnectionLine, ndjsonConnectionLineOfText, ndjsonEndLines, renderNdjson} from '../report/ndjson.js'
import type {ShardedReportOutput} from '../shards/analyze-sharded.js'
import {renderHtml} from '../report/html.js'
import {renderTable, tableDigest} from '../report/table.js'

export const REPORT_FORMATS = ['table', 'json', 'ndjson', 'junit'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export interface OutputOptions {
  format?: ReportFormat
  /** Write the report to this file instead of stdout. */
  output?: string
  /** Table: every connection in full, not the big-capture summary. */
  all?: boolean
  /** Table: ladder diagrams for every connection (true), none (false), or failing ones (unset). */
  timeline?: boolean
}

/** The format to use when none was given: from --output's extension, else table on a TTY, JSON otherwise. */
export function defaultFormat(output: string | undefined, stdoutIsTty: boolean): ReportFormat {
  if (output !== undefined) {
    if (/\.ndjson$|\.jsonl$/i.test(output)) return 'ndjson'
    if (/\.json$/i.test(output)) return 'json'
    if (/\.xml$/i.test(output)) return 'junit'
    return 'table'
  }
  return stdoutIsTty ? 'table' : 'json'
}

/**
 * Colour on a terminal that wants it: NO_COLOR (https://no-color.org) and TERM=dumb turn it off;
 * FORCE_COLOR turns it on, except FORCE_COLOR=0 or false, which turn it off even on a terminal
 * (as chalk and Node's own tty.hasColors read it).
 */
export function wantsColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false
  if (env.FORCE_COLOR !== undefined) return true
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.TERM === 'dumb') return false
  return stream.isTTY === true
}

export function renderReport(report: AnalysisReport, format: ReportFormat, options: {color: boolean; width: number; all?: boolean; timeline?: boolean}, digest?: ConnectionDigest): string {
  switch (format) {
    case 'table':
      return renderTable(report, {...options, timeline: options.timeline === undefined ? 'failing' : options.timeline ? 'all' : 'none'}, digest)
    case 'json':
      return renderJson(report)
    case 'ndjson':
      return renderNdjson(report)
    case 'junit':
      return renderJunit(report)
  }
}

/** Table width on a pipe (a CI log, `| less`, a mail): the classic 80 columns, as the README promises. */
export const PIPED_WIDTH = 80
/** Table width in an --output file, read later in an editor or attached to a ticket. */
export const FILE_WIDTH = 100

/** Where and how a report goes: the format, a file or stdout, colour and width. */
interface Destination {
  format: ReportFormat
  /** The file to write, or undefined for stdout. */
  file?: string
  color: boolean
  width: number
}

function destinationOf(options: OutputOptions): Destination {
  const file = options.output !== undefined && options.output !== '-' ? options.output : undefined
  const format = options.format ?? defaultFormat(file, process.stdout.isTTY === true)
  const color = file === undefined && wantsColor(process.stdout)
  const width = file !== undefined ? FILE_WIDTH : process.stdout.isTTY === true ? Math.max(60, process.stdout.columns || FILE_WIDTH) : PIPED_WIDTH
  return {format, file, color, width}
}

/** Renders and writes the report where the user asked. */
export async function writeReport(report: AnalysisReport, options: OutputOptions, digest?: ConnectionDigest): Promise<void> {
  const to = destinationOf(options)
  let text = renderReport(report, to.format, {color: to.color, width: to.width, all: options.all, timeline: options.timeline}, digest)
  if (!text.endsWith('\n')) text += '\n'
  if (to.file !== undefined) {
    await writeFileOrFail(to.file, text, 'cannot write the report')
  } else {
    writeStdout(text)
    await stdoutWritten()
  }
}

/**
 * A report opened before the analysis starts, so that a capture of 100,000 connections is not
 * held in memory to be printed: `analysis` goes into the Analyzer's options and receives each
 * connection as it is decided; `finish` writes the rest once the report is complete.
 * - table (without --all): the connections are digested (counts, failing checks, the worst
 *   few; see report/digest.ts) and let go;
 * - ndjson: each connection's line is written at once (in the order connections are decided),
 *   a line per Defender (when the report has the per-Defender view) and the summary line last;
 * - json: the document is written as connections are decided (report/json.ts JsonReportStream:
 *   by id up to 1,000 connections, in the order decided past that), source and summary last;
 * - junit, table --all, or `keepConnections` (--html, --json need every connection): the report
 *   is kept whole and rendered at the end.
 * `sourceName` is the report's source.name (the file, '-', the interface), which NDJSON lines
 * carry; `policy` heads a streamed JSON document (without it, JSON is rendered at the end).
 */
export interface OpenReport {
  analysis: Pick<AnalyzerOptions, 'onConnection' | 'maxReportedConnections'>
  /** The same, for a sharded analysis (analyze --jobs): what its workers send of each connection. */
  sharded: ShardedReportOutput
  finish(report: AnalysisReport): Promise<void>
}

export function openReport(options: OutputOptions & {sourceName: string; policy?: Policy; keepConnections?: boolean}): OpenReport {
  const to = destinationOf(options)
  if (options.keepConnections !== true && to.format === 'json' && options.policy !== undefined) {
    const out = new LineWriter(to.file)
    const policy = options.policy
    const json = new JsonReportStream({schemaVersion: 1, tool: {name: 'defender-check', version: TOOL_VERSION}, policy}, (text) => out.write(text))
    return {
      analysis: {onConnection: (connection) => json.connection(connection), maxReportedConnections: 0},
      sharded: {kind: 'item', onConnectionText: (item, id) => json.connectionItem(id, item)},
      finish: async (report) => {
        json.end(report)
        await out.close()
      },
    }
  }
  if (options.keepConnections !== true && to.format === 'table' && options.all !== true) {
    const digest = tableDigest()
    return {
      analysis: {onConnection: (connection) => digest.add(connection), maxReportedConnections: 0},
      sharded: {kind: 'digest', digest},
      finish: (report) => writeReport(report, options, digest),
    }
  }
  if (options.keepConnections !== true && to.format === 'ndjson') {
    const out = new LineWriter(to.file)
    return {
      analysis: {
        onConnection: (connection) => out.write(ndjsonConnectionLine(connection, options.sourceName)),
        maxReportedConnections: 0,
      },
      sharded: {kind: 'text', onConnectionText: (text) => out.write(ndjsonConnectionLineOfText(text, options.sourceName))},
      finish: async (report) => {
        for (const line of ndjsonEndLines(report)) out.write(line)
        await out.close()
      },
    }
  }
  return {analysis: {}, sharded: {kind: 'report'}, finish: (report) => writeReport(report, options)}
}

/** --html FILE: the self-contained HTML report, whatever the main format (also with --json). */
export async function writeHtmlReport(report: AnalysisReport, path: string): Promise<void> {
  await writeFileOrFail(path, renderHtml(report), 'cannot write the HTML report')
}

/**
 * Lines written as they come, to stdout or to a file, batched: each line is encoded straight into
 * a 1 MiB buffer (no Buffer per line, no string concatenation) and the buffer is written when it
 * is full, when the report ends, or OUTPUT_FLUSH_MS after the first line it holds, so a live pipe
 * (`capture -f ndjson | jq`) never waits longer than that for a decided connection: the timer
 * runs whenever the analysis waits for input. Writes are synchronous on a file; on stdout the
 * filled buffer is handed over and a new one taken (a pipe may still hold it). The file is
 * opened at the first write, so a capture that cannot be read leaves no empty report behind.
 * Measured on bench file (b) as NDJSON (1 GB of lines): BENCHMARKS.md, "issue 21, the streamed formats".
 */
export class LineWriter {
  private fd: number | undefined
  private buffer = Buffer.allocUnsafeSlow(OUTPUT_BATCH_BYTES)
  private used = 0
  private timer: NodeJS.Timeout | undefined
  /** A write that failed on the timer, where nothing could catch it: thrown at the next write or at close. */
  private failure: unknown
  /**
   * A run that ends early (an unreadable record: exit 2) still writes the lines decided before
   * it, as it did before lines were batched.
   */
  private readonly atExit = (): void => {
    try {
      this.flush()
    } catch {
      // The process is ending with its own error already said; a failed write adds nothing.
    }
  }

  constructor(private readonly file: string | undefined) {
    process.once('exit', this.atExit)
  }

  write(text: string): void {
    if (this.failure !== undefined) throw this.failure
    if (text === '') return
    // A UTF-16 code unit is at most 3 bytes of UTF-8: room for that never cuts a character.
    const most = text.length * 3
    if (this.used + most > this.buffer.length) {
      this.flush()
      if (most > this.buffer.length) {
        this.writeOut(Buffer.from(text))
        return
      }
    }
    this.used += this.buffer.write(text, this.used)
    this.timer ??= setTimeout(() => this.flushOnTimer(), OUTPUT_FLUSH_MS).unref()
  }

  async close(): Promise<void> {
    process.off('exit', this.atExit)
    if (this.failure !== undefined) throw this.failure
    this.flush()
    if (this.file === undefined) return stdoutWritten()
    if (this.fd !== undefined) closeSync(this.fd)
  }

  private flushOnTimer(): void {
    this.timer = undefined
    try {
      this.flush()
    } catch (error) {
      this.failure ??= error
    }
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.used === 0) return
    const filled = this.buffer.subarray(0, this.used)
    this.used = 0
    if (this.file === undefined) this.buffer = Buffer.allocUnsafeSlow(OUTPUT_BATCH_BYTES)
    this.writeOut(filled)
  }

  private writeOut(bytes: Buffer): void {
    if (this.file === undefined) {
      writeStdout(bytes)
      return
    }
    try {
      this.fd ??= openSync(this.file, 'w')
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at)
    } catch (error) {
      throw new InputError(`cannot write the report: ${(error as Error).message}`, this.file)
    }
  }
}

/** The output batch: big enough that writing costs one system call per MiB, small beside the analysis's memory. */
const OUTPUT_BATCH_BYTES = 1 << 20
/** The longest a written line waits in the batch (a live pipe sees decided connections this soon). */
export const OUTPUT_FLUSH_MS = 100

/**
 * stdout as the report's destination. A write error there (ENOSPC on a full disk or /dev/full,
 * EIO) reaches node after the write returned, as an 'error' event that oclif's listener rethrows
 * as an uncaught exception (a stack trace and exit 1, which reads as "a check failed"). Here it is
 * kept, and the next write or the end of the report throws it as one line naming stdout, exit 2.
 * EPIPE (the reader went away: `| head`) stays quiet, as oclif has it.
 */
let stdoutFailure: NodeJS.ErrnoException | undefined
/** The failure was thrown (and so reported by the command's error handler). */
let stdoutFailureThrown = false
let stdoutWatched = false

/**
 * Replaces oclif's rethrowing listener; called by every command at start. A failure no report
 * writer threw (oclif's own --json output) is reported at exit: one line, exit code 2.
 */
export function watchStdout(): void {
  if (stdoutWatched) return
  stdoutWatched = true
  process.stdout.removeAllListeners('error')
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    stdoutFailure ??= error
  })
  process.once('exit', () => {
    if (stdoutFailure === undefined || stdoutFailure.code === 'EPIPE' || stdoutFailureThrown) return
    process.stderr.write(`defender-check: stdout: cannot write the report: ${stdoutFailure.message}\n`)
    process.exitCode = 2
  })
}

function writeStdout(text: string | Uint8Array): void {
  watchStdout()
  throwIfStdoutFailed()
  process.stdout.write(text, (error) => {
    if (error) stdoutFailure ??= error
  })
}

/** Resolves once everything written to stdout so far is written, or throws the write's error. */
async function stdoutWritten(): Promise<void> {
  if (stdoutWatched) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  throwIfStdoutFailed()
}

function throwIfStdoutFailed(): void {
  if (stdoutFailure === undefined || stdoutFailure.code === 'EPIPE') return
  stdoutFailureThrown = true
  throw new InputError(`cannot write the report: ${stdoutFailure.message}`, 'stdout')
}

async function writeFileOrFail(path: string, text: string, what: string): Promise<void> {
  try {
    await writeFile(path, text)
  } catch (error) {
    throw new InputError(`${what}: ${(error as Error).message}`, path)
  }
}
