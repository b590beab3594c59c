/**
 * Building the Policy from user input, with the validation a user deserves: a clear message for
 * a bad port, a bad pin or an unknown TLS version. Throws UsageError (exit code 2).
 */
import {isIP} from 'node:net'
import {DEFAULT_STABILITY, type Policy, type StabilityThresholds, type TlsVersionPolicy} from '../model/policy.js'
import {UsageError} from '../errors.js'

export const DEFAULT_CONSOLE_PORT = 8084

export interface PolicyInput {
  /** Port numbers as given; 'any' (or an empty list via anyPort) means every TCP port. */
  ports?: Array<number | string>
  console?: string
  minTls?: string
  caFile?: string
  pin?: string
  /** --strict: a warn fails the verdict. */
  strict?: boolean
  /** --saas; a Console port of 443 selects the SaaS profile too. */
  saas?: boolean
  /** probe's clock.skew and certs.lifetime thresholds (see Policy). */
  clockWarnMs?: number
  clockFailMs?: number
  certWarnDays?: number
  certFailDays?: number
  /** channel.stability's thresholds given as flags (durations already in seconds); the others keep their defaults. */
  stability?: Partial<StabilityThresholds>
}

/** The SaaS Console port (DESIGN.md): Defenders reach SaaS on 443 and authenticate with a token. */
export const SAAS_CONSOLE_PORT = 443

export function buildPolicy(input: PolicyInput): Policy {
  const ports = parsePorts(input.ports)
  const policy: Policy = {ports}
  const minTls = parseMinTls(input.minTls)
  if (minTls !== undefined) policy.minTls = minTls
  if (input.strict === true) policy.strict = true
  if (input.saas === true || ports.includes(SAAS_CONSOLE_PORT)) policy.saas = true
  if (input.console !== undefined) {
    const value = input.console.trim().replace(/^\[(.*)\]$/, '$1')
    if (value === '') throw new UsageError('--console needs a host name or an IP address')
    policy.console = value
    if (isIP(value)) policy.consoleIp = value.toLowerCase()
    else policy.consoleName = value.toLowerCase().replace(/\.$/, '')
  }
  if (input.caFile !== undefined) policy.caFile = input.caFile
  if (input.pin !== undefined) policy.pin = parsePin(input.pin)
  const clockWarnMs = threshold(input.clockWarnMs, '--clock-warn', 'a duration')
  const clockFailMs = threshold(input.clockFailMs, '--clock-fail', 'a duration')
  if (clockWarnMs !== undefined && clockFailMs !== undefined && clockFailMs < clockWarnMs) throw new UsageError('--clock-fail must be at least --clock-warn')
  if (clockWarnMs !== undefined) policy.clockWarnMs = clockWarnMs
  if (clockFailMs !== undefined) policy.clockFailMs = clockFailMs
  const certWarnDays = threshold(input.certWarnDays, '--warn-days', 'a number of days')
  const certFailDays = threshold(input.certFailDays, '--fail-days', 'a number of days')
  // Fewer days left is worse: the fail threshold is the lower one.
  if (certWarnDays !== undefined && certFailDays !== undefined && certFailDays > certWarnDays) throw new UsageError('--fail-days must be at most --warn-days')
  if (certWarnDays !== undefined) policy.certWarnDays = certWarnDays
  if (certFailDays !== undefined) policy.certFailDays = certFailDays
  const stability = parseStability(input.stability)
  if (stability !== undefined) policy.stability = stability
  return policy
}

/** The thresholds given, over the defaults; undefined when none was given (the policy then says nothing of them). */
function parseStability(given: Partial<StabilityThresholds> | undefined): StabilityThresholds | undefined {
  if (given === undefined) return undefined
  const entries = Object.entries(given).filter(([, value]) => value !== undefined) as Array<[keyof StabilityThresholds, number]>
  if (entries.length === 0) return undefined
  const flags: Record<keyof StabilityThresholds, string> = {stormAttempts: '--storm-attempts', stormWindowSeconds: '--storm-window', idleCutSessions: '--idle-cut-sessions', stoppedAfterSeconds: '--stopped-after'}
  const thresholds: StabilityThresholds = {...DEFAULT_STABILITY}
  for (const [name, value] of entries) {
    const whole = name === 'stormAttempts' || name === 'idleCutSessions'
    if (!Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
      throw new UsageError(`${flags[name]} ${JSON.stringify(String(value))}: expected ${whole ? 'a whole number of at least 1' : 'a duration longer than 0'}`)
    }
    thresholds[name] = value
  }
  return thresholds
}

function parsePorts(values: Array<number | string> | undefined): number[] {
  if (values === undefined || values.length === 0) return [DEFAULT_CONSOLE_PORT]
  const ports = new Set<number>()
  for (const value of values) {
    for (const part of String(value).split(',')) {
      const text = part.trim()
      if (text === 'any') return []
      const port = Number(text)
      if (!/^\d+$/.test(text) || port < 1 || port > 65_535) {
        throw new UsageError(`--port ${JSON.stringify(text)} is not a TCP port (1-65535, or "any")`)
      }
      ports.add(port)
    }
  }
  return [...ports]
}

/** Absent: the default policy (TLS 1.3 pass, TLS 1.2 warn, below fail). */
function parseMinTls(value: string | undefined): TlsVersionPolicy | undefined {
  if (value === undefined) return undefined
  const text = value.trim().replace(/^tls\s*/i, '').replace(/^v/i, '')
  if (text === '1.2' || text === '1.3') return text
  throw new UsageError(`--min-tls ${JSON.stringify(value)}: use 1.2 or 1.3`)
}

/** `sha256:HEX` (64 hex digits, colons allowed), normalised to `sha256:lowercasehex`. */
function parsePin(value: string): string {
  const match = /^sha256:([0-9a-f:]+)$/i.exec(value.trim())
  const hex = match?.[1].replace(/:/g, '').toLowerCase()
  if (!hex || hex.length !== 64) {
    throw new UsageError(`--pin ${JSON.stringify(value)}: expected sha256: followed by the 64 hex digits of the certificate's SHA-256 fingerprint`)
  }
  return `sha256:${hex}`
}

/** A threshold flag's value: a finite number, 0 or more. */
function threshold(value: number | undefined, flag: string, what: string): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new UsageError(`${flag} must be ${what}, 0 or more`)
  return value
}
