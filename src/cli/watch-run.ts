/**
 * `watch`'s library call: the session held until SIGINT or SIGTERM, events as they happen (one
 * line each, NDJSON with -f ndjson), then the summary: the latest full probe and the per-Defender
 * view of the sessions held, with its channel.stability verdict.
 */
import type {DefenderReport} from '../model/defenders.js'
import type {AnalysisReport} from '../model/report.js'
import type {WatchEvent} from '../probe/watch/index.js'
import {exitCodeFor} from './exit-codes.js'
import {parseDuration, probeInputFromFlags, type ProbeFlagValues} from './flags.js'
import {writeReport} from './output.js'
import {ndjsonEndLines} from '../report/ndjson.js'
import {outputOptions, type CommandRun, type ReportFlagValues} from './command-run.js'

export interface WatchFlagValues extends ProbeFlagValues, ReportFlagValues {
  'ping-interval'?: string
  'ping-timeout'?: string
  interval?: string
  'max-backoff'?: string
  listen?: string
}

export async function runWatch(url: string, flags: WatchFlagValues, json = false): Promise<CommandRun> {
  const {startWatch} = await import('../probe/watch/index.js')
  const format = json ? 'json' : (flags.format ?? (process.stdout.isTTY ? 'table' : 'ndjson'))
  // stdout carries one JSON document with json: the events go to stderr, as lines for people.
  const onEvent = (event: WatchEvent) => {
    if (format === 'ndjson') process.stdout.write(`${JSON.stringify(event)}\n`)
    else (format === 'json' ? process.stderr : process.stdout).write(describeEvent(event))
  }
  const abort = new AbortController()
  const stop = () => {
    // A second signal does not wait for the clean close (a Console that never answers it).
    if (abort.signal.aborted) process.exit(130)
    abort.abort()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  try {
    const input = probeInputFromFlags(url, flags)
    const running = await startWatch(
      {
        ...input,
        pingIntervalMs: parseDuration(flags['ping-interval'] ?? '30s', 'ping-interval'),
        ...(flags['ping-timeout'] === undefined ? {} : {pingTimeoutMs: parseDuration(flags['ping-timeout'], 'ping-timeout')}),
        probeIntervalMs: parseDuration(flags.interval ?? '5m', 'interval'),
        maxBackoffMs: parseDuration(flags['max-backoff'] ?? '60s', 'max-backoff'),
        ...(flags.listen === undefined ? {} : {listen: flags.listen}),
      },
      {signal: abort.signal, onEvent},
    )
    if (running.metricsAddress) process.stderr.write(`defender-check: serving metrics on http://${running.metricsAddress.host.includes(':') ? `[${running.metricsAddress.host}]` : running.metricsAddress.host}:${running.metricsAddress.port}/metrics\n`)
    const report = await running.done
    return {report, write: (r) => writeSummary(r, format, flags)}
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

/** The exit code: the latest probe's verdict, made worse by the Defender's (channel.stability). */
export function watchExitCode(report: AnalysisReport): number {
  const defender = report.defenders?.defenders[0]
  return defender?.verdict === 'fail' ? 1 : exitCodeFor(report.summary)
}

async function writeSummary(report: AnalysisReport, format: string, flags: ReportFlagValues): Promise<void> {
  const defender = report.defenders?.defenders[0]
  if (flags.output !== undefined) {
    // -o FILE: the summary report there, in the format its extension (or -f) says.
    await writeReport(report, outputOptions(flags))
    return
  }
  if (format === 'ndjson') {
    // The same end lines as analyze's NDJSON (one per Defender, then the summary): one schema for both.
    process.stdout.write([...ndjsonEndLines(report)].join(''))
    return
  }
  await writeReport(report, outputOptions(flags))
  if (format === 'table' && defender) process.stdout.write(describeDefender(defender))
}

function clock(iso: string): string {
  return iso.slice(11, 19)
}

function describeEvent(event: WatchEvent): string {
  switch (event.type) {
    case 'session-start':
      return `${clock(event.at)} session ${event.session} established to ${event.console} (tcp ${event.tcpMs ?? '?'} ms, tls ${event.tlsMs ?? '?'} ms, upgrade ${event.upgradeMs ?? '?'} ms${event.clockSkewSeconds === undefined ? '' : `, Console clock ${event.clockSkewSeconds >= 0 ? '+' : ''}${event.clockSkewSeconds} s`})\n`
    case 'session-end': {
      const s = event.session
      const how = `${s.end.reason}${s.end.wsCloseCode === undefined ? '' : ` ${s.end.wsCloseCode}`} by ${s.end.by}`
      const next = event.nextAttemptInMs === undefined ? '' : `; next attempt in ${event.nextAttemptInMs / 1000} s`
      return `${clock(s.endedAt)} session ${s.connection} ${s.established ? `ended after ${s.durationSeconds} s` : 'failed'}: ${how}${event.error ? ` (${event.error.message})` : ''}${next}\n`
    }
    case 'probe':
      return `${clock(event.at)} probe: ${event.verdict}${event.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => `; ${c.id} ${c.status}: ${c.summary}`).join('')}\n`
  }
}

/** The per-Defender view in a few lines (the table renderer's Defenders section shows the same once merged). */
function describeDefender(d: DefenderReport): string {
  const lines = [`\nDefender ${d.identity.key}: ${d.connections} session attempt(s), ${d.reconnects} reconnect(s), last good handshake ${d.lastGoodHandshake ?? 'never'}`]
  if (d.sessionLifetime) lines.push(`  session lifetime min ${d.sessionLifetime.min} s, median ${d.sessionLifetime.median} s, max ${d.sessionLifetime.max} s (${d.sessionLifetime.count} ended)`)
  if (d.endings.length > 0) lines.push(`  endings: ${d.endings.map((e) => `${e.reason} by ${e.by} ×${e.count}`).join(', ')}`)
  for (const check of d.checks) lines.push(`  ${check.id} ${check.status.toUpperCase()}: ${check.summary}`)
  lines.push(`  verdict: ${d.verdict}`)
  return `${lines.join('\n')}\n`
}
