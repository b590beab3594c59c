/**
 * The shape of every command: flags → one library call (analyze-run.ts, capture-run.ts,
 * probe-run.ts: the policy, the certificate and key inputs, progress, the report opened before
 * the analysis for streamed formats) → deliverReport(), the render step they share.
 */
import {buildPolicy} from '../analysis/policy.js'
import type {AnalysisReport} from '../model/report.js'
import type {Policy} from '../model/policy.js'
import {renderJson} from '../report/json.js'
import {exitCodeFor} from './exit-codes.js'
import {parseDuration} from './flags.js'
import {writeHtmlReport, type OutputOptions, type ReportFormat} from './output.js'

/** reportFlags' values (cli/flags.ts). */
export interface ReportFlagValues {
  format?: string
  output?: string
  all?: boolean
  timeline?: boolean
  html?: string
}

/** The flags that make an analysis policy (analyze and capture). */
export interface PolicyFlagValues {
  port?: string[]
  console?: string
  'min-tls'?: string
  ca?: string
  pin?: string
  strict?: boolean
  saas?: boolean
  'storm-attempts'?: number
  'storm-window'?: string
  'idle-cut-sessions'?: number
  'stopped-after'?: string
}

/** A finished run: its report, and how to write it where the user asked. */
export interface CommandRun {
  report: AnalysisReport
  /** Writes the report in the chosen format (what was streamed during the run is already out). */
  write(report: AnalysisReport): Promise<void>
}

/**
 * The render step every command ends with: the exit code from the verdict, the --html file,
 * then the report, as oclif's --json result (the JSON document's own shape) or as asked.
 */
export async function deliverReport(run: CommandRun, options: {html?: string; json: boolean}): Promise<AnalysisReport> {
  const report = run.report
  process.exitCode = exitCodeFor(report.summary)
  if (options.html !== undefined) await writeHtmlReport(report, options.html)
  if (options.json) return JSON.parse(renderJson(report)) as AnalysisReport
  await run.write(report)
  return report
}

export function outputOptions(flags: ReportFlagValues): OutputOptions {
  return {format: flags.format as ReportFormat | undefined, output: flags.output, all: flags.all, timeline: flags.timeline}
}

export function policyOf(flags: PolicyFlagValues): Policy {
  const seconds = (text: string | undefined, flag: string) => (text === undefined ? undefined : parseDuration(text, flag) / 1000)
  const stability = {
    stormAttempts: flags['storm-attempts'],
    stormWindowSeconds: seconds(flags['storm-window'], 'storm-window'),
    idleCutSessions: flags['idle-cut-sessions'],
    stoppedAfterSeconds: seconds(flags['stopped-after'], 'stopped-after'),
  }
  return buildPolicy({ports: flags.port, console: flags.console, minTls: flags['min-tls'], caFile: flags.ca, pin: flags.pin, strict: flags.strict, saas: flags.saas, stability})
}

