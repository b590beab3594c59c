/** `capture`'s library call: tcpdump analysed as it captures, or `capture --probe`. */
import {loadCaBundle} from '../analysis/cert-policy.js'
import {captureLive, type LiveProgress} from '../analysis/live-analysis.js'
import type {AnalysisReport} from '../model/report.js'
import {parseDuration, probeInputFromFlags, type ProbeFlagValues} from './flags.js'
import {openReport} from './output.js'
import {outputOptions, policyOf, type CommandRun, type PolicyFlagValues, type ReportFlagValues} from './command-run.js'

export interface CaptureFlagValues extends PolicyFlagValues, ReportFlagValues, Omit<ProbeFlagValues, keyof PolicyFlagValues> {
  interface: string
  filter?: string
  duration?: string
  count?: number
  write?: string
  probe?: string
}

/**
 * `capture`: tcpdump analysed as it captures until --duration, --count or Ctrl-C; with --probe,
 * the probe's own connection beside the wire's view of it. Progress on stderr on a terminal.
 */
export async function runCapture(flags: CaptureFlagValues, json: boolean): Promise<CommandRun> {
  const abort = new AbortController()
  const onSigint = () => abort.abort()
  process.on('SIGINT', onSigint)
  const progress = process.stderr.isTTY ? showProgress : undefined
  let report: AnalysisReport
  const policy = flags.probe === undefined ? policyOf(flags) : undefined
  // A long live capture is written like a big file: JSON and NDJSON as connections end, the
  // table from a digest (cli/output.ts openReport). The probe's two views are one small report.
  const output = openReport({...outputOptions(flags), sourceName: flags.interface, policy, keepConnections: flags.probe !== undefined || flags.html !== undefined || json})
  try {
    if (policy !== undefined) {
      const ca = flags.ca === undefined ? undefined : loadCaBundle(flags.ca)
      report = await captureLive({policy, certificates: {ca}, interface: flags.interface, filter: flags.filter, count: flags.count, durationMs: parseDuration(flags.duration, 'duration'), writeFile: flags.write, signal: abort.signal, onProgress: progress, ...output.analysis})
    } else {
      // No policy: --probe was given (the probe builds its own from the URL and options).
      const ca = flags.ca ?? (flags['defender-certs'] === undefined ? undefined : `${flags['defender-certs']}/defender-ca.pem`)
      // The probe (ws, node-forge) is loaded only when it runs: every command's start pays for
      // what its module imports, since oclif loads them all to list the commands.
      const {captureWithProbe} = await import('../probe/capture-probe.js')
      report = await captureWithProbe({
        interface: flags.interface,
        writeFile: flags.write,
        certificates: {ca: ca === undefined ? undefined : loadCaBundle(ca)},
        onProgress: progress,
        probe: probeInputFromFlags(flags.probe!, flags),
      })
    }
  } finally {
    process.off('SIGINT', onSigint)
    if (progress) process.stderr.write('\n')
  }
  return {report, write: output.finish}
}

function showProgress(p: LiveProgress): void {
  process.stderr.write(`\r\u001b[Kcapturing: ${p.packets} packets, ${(p.bytes / 1024).toFixed(1)} KiB, ${p.connections} connection attempts to the Console, ${(p.elapsedMs / 1000).toFixed(1)} s (Ctrl-C stops)`)
}

