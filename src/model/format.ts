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
