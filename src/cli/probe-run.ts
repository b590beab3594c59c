/** `probe`'s library call. */
import {parseDuration, probeInputFromFlags, type ProbeFlagValues} from './flags.js'
import {writeReport} from './output.js'
import {outputOptions, type CommandRun, type ReportFlagValues} from './command-run.js'

/** `probe URL`: the probe's own connection, judged by the same checks. */
export async function runProbe(url: string, flags: ProbeFlagValues & ReportFlagValues & {hold?: string; proxy?: string; 'clock-warn'?: string; 'clock-fail'?: string; 'warn-days'?: number; 'fail-days'?: number}): Promise<CommandRun> {
  // Loaded here, not at the top: oclif imports every command module to list them, and the
  // probe's ws and node-forge would slow every other command's start.
  const {probeConsole} = await import('../probe/index.js')
  const report = await probeConsole({
    ...probeInputFromFlags(url, flags),
    holdMs: parseDuration(flags.hold, 'hold'),
    proxy: flags.proxy,
    clockWarnMs: parseDuration(flags['clock-warn'], 'clock-warn'),
    clockFailMs: parseDuration(flags['clock-fail'], 'clock-fail'),
    certWarnDays: flags['warn-days'],
    certFailDays: flags['fail-days'],
  })
  return {report, write: (r) => writeReport(r, outputOptions(flags))}
}
