/** `analyze`'s library call: a saved capture analysed, its report opened before (streamed formats). */
import {analyzeCapture} from '../analysis/analyze.js'
import {loadCaBundle} from '../analysis/cert-policy.js'
import {loadKeyStore} from '../keys/store.js'
import {openReport} from './output.js'
import {outputOptions, policyOf, type CommandRun, type PolicyFlagValues, type ReportFlagValues} from './command-run.js'
import {createProgress} from './progress.js'
import {analyzeCaptureSharded} from '../shards/analyze-sharded.js'
import {jobsFor} from '../shards/jobs.js'

/** `analyze CAPTURE`: a saved capture (or '-') analysed, the report streamed where it can be. */
export async function runAnalyze(capture: string, flags: PolicyFlagValues & ReportFlagValues & {keylog?: string[]; jobs?: number}, json: boolean): Promise<CommandRun> {
  const policy = policyOf(flags)
  const ca = flags.ca === undefined ? undefined : loadCaBundle(flags.ca)
  const {store: keys, warnings} = await loadKeyStore(flags.keylog ?? [])
  for (const warning of warnings) process.stderr.write(`defender-check: warning: ${warning}\n`)
  const progress = createProgress(process.stderr, {enabled: process.stderr.isTTY === true && !json})
  const output = openReport({...outputOptions(flags), sourceName: capture, policy, keepConnections: flags.html !== undefined || json})
  const options = {policy, certificates: {ca}, keys, onProgress: progress.update, ...output.analysis}
  const jobs = await jobsFor(capture, flags.jobs, policy)
  const analysis = jobs > 1 ? analyzeCaptureSharded(capture, {...options, jobs, output: output.sharded, caFile: flags.ca, keylogFiles: flags.keylog ?? [], onNote: (note) => process.stderr.write(`defender-check: note: ${note}\n`)}) : analyzeCapture(capture, options)
  const report = await analysis.finally(progress.done)
  return {report, write: output.finish}
}

