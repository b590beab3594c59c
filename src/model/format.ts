/**
 * Wording shared by the checks and the report renderers (below both, so neither imports the
 * other): how an endpoint, a delay and a count are written. Plain ASCII on purpose: summaries end
 * up in logs, JUnit files and terminals without UTF-8.
 */
import type {Endpoint} from '../stream/types.js'

/** `10.0.0.1:8084`, `[2001:db8::1]:8084` (RFC 3986 §3.2.2 brackets an IPv6 literal). */
export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`
}

/** A delay for a person: `0.070 ms`, `37.8 ms`, `1012 ms`. */
export function formatMs(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`
  if (ms >= 10) return `${ms.toFixed(1)} ms`
  return `${ms.toFixed(3)} ms`
}

/** Seconds between two capture timestamps, in ms rounded to the µs the capture carries. */
export function elapsedMs(fromTs: number, toTs: number): number {
  return Math.round((toTs - fromTs) * 1_000_000) / 1000
}

/** `1 SYN`, `3 SYNs`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/**
 * A span of time for a person, its two largest units: `45 s`, `7 min 3 s`, `2 h 13 min`,
 * `3 days 4 h`. Sub-second spans in ms. For how far a clock or a validity date is off.
 */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)} ms`
  const s = Math.round(abs / 1000)
  const units: Array<[number, string]> = [
    [Math.floor(s / 86_400), 'day'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'min'],
    [s % 60, 's'],
  ]
  const first = units.findIndex(([n]) => n > 0)
  return units
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => (unit === 'day' ? count(n, 'day') : `${n} ${unit}`))
    .join(' ')
}
