/**
 * Choosing a format and writing the rendered report: shared by every command. No oclif here,
 * only the decisions a user expects: a table on a terminal, JSON when piped, the format implied
 * by --output's extension, colour only on a colour terminal (NO_COLOR honoured).
 */
import {writeFile} from 'node:fs/promises'
import type {AnalysisReport} from '../analysis/types.js'
import {InputError} from '../errors.js'
import {renderJson} from '../report/json.js'
import {renderJunit} from '../report/junit.js'
import {renderNdjson} from '../report/ndjson.js'
import {renderHtml} from '../report/html.js'
import {renderTable} from '../report/table.js'

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

/** Colour on a terminal that wants it: NO_COLOR (https://no-color.org) and TERM=dumb turn it off, FORCE_COLOR on. */
export function wantsColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.TERM === 'dumb') return false
  return stream.isTTY === true
}

export function renderReport(report: AnalysisReport, format: ReportFormat, options: {color: boolean; width: number; all?: boolean; timeline?: boolean}): string {
  switch (format) {
    case 'table':
      return renderTable(report, {...options, timeline: options.timeline === undefined ? 'failing' : options.timeline ? 'all' : 'none'})
    case 'json':
      return renderJson(report)
    case 'ndjson':
      return renderNdjson(report)
    case 'junit':
      return renderJunit(report)
  }
}

/** Renders and writes the report where the user asked. */
export async function writeReport(report: AnalysisReport, options: OutputOptions): Promise<void> {
  const toFile = options.output !== undefined && options.output !== '-'
  const format = options.format ?? defaultFormat(toFile ? options.output : undefined, process.stdout.isTTY === true)
  const color = !toFile && wantsColor(process.stdout)
  const width = toFile ? 100 : Math.max(60, process.stdout.columns || 100)
  let text = renderReport(report, format, {color, width, all: options.all, timeline: options.timeline})
  if (!text.endsWith('\n')) text += '\n'
  if (toFile) {
    try {
      await writeFile(options.output!, text)
    } catch (error) {
      throw new InputError(`cannot write the report: ${(error as Error).message}`, options.output)
    }
  } else {
    process.stdout.write(text)
  }
}

/** --html FILE: the self-contained HTML report, whatever the main format (also with --json). */
export async function writeHtmlReport(report: AnalysisReport, path: string): Promise<void> {
  await writeFileOrFail(path, renderHtml(report), 'cannot write the HTML report')
}

async function writeFileOrFail(path: string, text: string, what: string): Promise<void> {
  try {
    await writeFile(path, text)
  } catch (error) {
    throw new InputError(`${what}: ${(error as Error).message}`, path)
  }
}
