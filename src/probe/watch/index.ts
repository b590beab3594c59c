/**
 * The library entry for `defender-check watch`: user input in, the watch run until `signal`
 * aborts, an AnalysisReport out (the latest full probe as its connection, and the per-Defender
 * view of the sessions held). Validation errors are UsageError/InputError (exit code 2).
 */
import type {Server} from 'node:http'
import {summarizeConnections} from '../../analysis/analyzer.js'
import {TOOL_VERSION} from '../../analysis/version.js'
import {UsageError} from '../../errors.js'
import {redactUrl} from '../../secrets.js'
import type {AnalysisReport} from '../../model/report.js'
import {prepareProbe, type ProbeInput} from '../index.js'
import {parseListen, serveMetrics, WatchMetrics} from './metrics.js'
import {watchConsole, type WatchEvent, type WatchOptions} from './watcher.js'

export {parseListen, WatchMetrics} from './metrics.js'
export {watchConsole, type WatchEvent, type WatchOptions, type WatchResult} from './watcher.js'

export interface WatchInput extends Omit<ProbeInput, 'holdMs' | 'proxy' | 'noEnvProxy' | 'keylogFile'> {
  pingIntervalMs: number
  /** Default: the phase deadline (timeoutMs). */
  pingTimeoutMs?: number
  probeIntervalMs: number
  maxBackoffMs: number
  /** host:port to serve /metrics on. */
  listen?: string
}

/** The first retry waits this long; each failed attempt doubles it, up to --max-backoff. */
export const INITIAL_BACKOFF_MS = 1000

export interface RunningWatch {
  /** Where /metrics is served (the port chosen when --listen gave 0). */
  metricsAddress?: {host: string; port: number}
  /** Resolves with the report once `signal` aborted and the session was closed. */
  done: Promise<AnalysisReport>
}

/** Parses and loads everything (certificates, the listen address) before touching the network, then starts. */
export async function startWatch(input: WatchInput, hooks: {signal: AbortSignal; onEvent?(event: WatchEvent): void}): Promise<RunningWatch> {
  for (const [flag, ms] of [['ping-interval', input.pingIntervalMs], ['interval', input.probeIntervalMs], ['max-backoff', input.maxBackoffMs]] as const) {
    if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--${flag} must be a positive duration, e.g. 30s`)
  }
  // No proxy: watch holds a direct channel (HTTPS_PROXY is not read); `probe --proxy` tests one.
  const {options, policy} = prepareProbe({...input, noEnvProxy: true})
  const listen = input.listen === undefined ? undefined : parseListen(input.listen)
  const metrics = new WatchMetrics(`${options.target.host}:${options.target.port}`)
  let server: Server | undefined
  if (listen) server = await serveMetrics(metrics, listen)
  const watchOptions: WatchOptions = {
    probe: options,
    policy,
    pingIntervalMs: input.pingIntervalMs,
    pingTimeoutMs: input.pingTimeoutMs ?? input.timeoutMs,
    probeIntervalMs: input.probeIntervalMs,
    initialBackoffMs: Math.min(INITIAL_BACKOFF_MS, input.maxBackoffMs),
    maxBackoffMs: input.maxBackoffMs,
  }
  const started = new Date().toISOString()
  const done = watchConsole(watchOptions, {...hooks, metrics})
    .then((result): AnalysisReport => {
      const connections = result.lastProbe ? [result.lastProbe] : []
      return {
        schemaVersion: 1,
        tool: {name: 'defender-check', version: TOOL_VERSION},
        source: {kind: 'probe', name: redactUrl(options.target.url), frames: 0, firstTs: started, lastTs: new Date().toISOString(), issues: []},
        policy,
        connections,
        defenders: result.view,
        summary: summarizeConnections(connections, policy),
      }
    })
    .finally(() => new Promise<void>((resolve) => {
      if (!server) return resolve()
      server.close(() => resolve())
      // Prometheus keeps its scrape connection alive: close() alone would wait for it.
      server.closeAllConnections()
    }))
  const address = server?.address()
  return {done, ...(address && typeof address === 'object' ? {metricsAddress: {host: address.address, port: address.port}} : {})}
}
