/**
 * The library entry for `defender-check probe`: user input (as given on the command line) in,
 * an AnalysisReport out. Validation errors are UsageError/InputError (exit code 2).
 */
import {buildPolicy} from '../analysis/policy.js'
import type {AnalysisReport} from '../model/report.js'
import type {Policy} from '../model/policy.js'
import {UsageError} from '../errors.js'
import {describeHeaderLine} from '../secrets.js'
import {loadCredentials, type CredentialFiles} from './credentials.js'
import {runProbe, type ProbeOptions} from './probe.js'
import {proxyFor} from './proxy.js'
import {probeReport} from './report.js'
import {parseProbeTarget} from './target.js'

export type {ProbeFacts} from '../model/probe.js'
export {runProbe, type ProbeOptions} from './probe.js'
export {probeConnection, probeReport} from './report.js'

export interface ProbeInput extends CredentialFiles {
  /** wss://host:port/path or host[:port]. */
  url: string
  /** SNI and certificate name when it differs from the URL's host (e.g. connecting by IP). */
  servername?: string
  minTls?: string
  insecure?: boolean
  timeoutMs: number
  /** `Name: value` lines for the upgrade request. */
  headers?: string[]
  subprotocols?: string[]
  holdMs?: number
  /** --proxy; otherwise HTTPS_PROXY from `env` (unless `noEnvProxy`). */
  proxy?: string
  env?: NodeJS.ProcessEnv
  /** Ignore HTTPS_PROXY (capture --probe analyses a direct connection). */
  noEnvProxy?: boolean
  keylogFile?: string
  /** --strict: a warning fails the verdict. */
  strict?: boolean
  /** --saas (port 443 selects it too): no client certificate expected. */
  saas?: boolean
  /** --clock-warn / --clock-fail (ms): clock.skew's thresholds. */
  clockWarnMs?: number
  clockFailMs?: number
  /** --warn-days / --fail-days: certs.lifetime's thresholds. */
  certWarnDays?: number
  certFailDays?: number
}

export interface PreparedProbe {
  options: ProbeOptions
  policy: Policy
}

/** Parses and loads everything the probe needs before it touches the network. */
export function prepareProbe(input: ProbeInput): PreparedProbe {
  const target = parseProbeTarget(input.url, input.servername)
  if (!Number.isFinite(input.timeoutMs) || input.timeoutMs <= 0) throw new UsageError('--timeout must be a positive duration, e.g. 10s')
  const credentials = loadCredentials(input)
  const policy = buildPolicy({ports: [target.port], console: target.servername ?? target.host, minTls: input.minTls, caFile: credentials.ca?.file, strict: input.strict, saas: input.saas, clockWarnMs: input.clockWarnMs, clockFailMs: input.clockFailMs, certWarnDays: input.certWarnDays, certFailDays: input.certFailDays})
  const options: ProbeOptions = {
    target,
    credentials,
    // The default policy warns on TLS 1.2 rather than refusing it: the probe offers 1.2 and 1.3.
    minTls: policy.minTls ?? '1.2',
    insecure: input.insecure === true,
    timeoutMs: input.timeoutMs,
    headers: parseHeaders(input.headers ?? []),
    subprotocols: input.subprotocols ?? [],
  }
  if (input.holdMs !== undefined) options.holdMs = input.holdMs
  const proxy = proxyFor(target.host, input.proxy, input.noEnvProxy ? {} : (input.env ?? process.env))
  if (proxy) options.proxy = proxy
  if (input.keylogFile !== undefined) options.keylogFile = input.keylogFile
  return {options, policy}
}

/** Runs the probe and reports it. */
export async function probeConsole(input: ProbeInput): Promise<AnalysisReport> {
  const {options, policy} = prepareProbe(input)
  return probeReport(await runProbe(options), policy)
}

/** RFC 9110 §5.1 field names are tokens; the value is whatever follows the colon. */
function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = colon < 0 ? '' : line.slice(0, colon).trim()
    // The line is not quoted whole: `Authorization Bearer TOKEN` (no colon) has the credential in it.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`--header ${describeHeaderLine(line)}: expected "Name: value"`)
    headers[name] = line.slice(colon + 1).trim()
  }
  return headers
}
