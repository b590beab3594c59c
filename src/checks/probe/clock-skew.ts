/**
 * clock.skew: this host's clock against the Console's, as the Console's answer to the upgrade
 * states it in its Date header (RFC 9110 §6.6.1). A wrong clock on either side makes valid
 * certificates "not yet valid" or "expired" and the mutual TLS fail (issue 18). Pure functions
 * over ClockFacts, so `watch` can judge the clocks of its sessions the same way.
 */
import type {CheckResult} from '../../model/checks.js'
import {formatSpan} from '../../model/format.js'
import type {Policy} from '../../model/policy.js'
import type {ClockFacts, ProbeFacts} from '../../model/probe.js'
import {notAttempted, result} from './common.js'

export const DEFAULT_CLOCK_WARN_MS = 30_000
export const DEFAULT_CLOCK_FAIL_MS = 5 * 60_000

/** The Date header has a resolution of one second (IMF-fixdate, RFC 9110 §5.6.7). */
const DATE_RESOLUTION_MS = 1000

export interface ClockSkew {
  /** The Console's clock minus this host's (ms): positive when the Console is ahead. */
  skewMs: number
  /** How far off the estimate may be: half the Date header's second plus half the request's round trip. */
  uncertaintyMs: number
  /** The Console's time as its Date header states it (ISO-8601). */
  consoleTime: string
}

/**
 * The skew, or why there is none. The server stamped its Date (truncated to the second) some
 * time between this host sending the request and receiving the answer, so the estimate takes
 * the middle of both intervals.
 */
export function clockSkewOf(clock: ClockFacts): ClockSkew | {problem: string} {
  if (clock.date === undefined) return {problem: `the Console's ${clock.status} response has no Date header (a server without a reliable clock may omit it, RFC 9110 section 6.6.1)`}
  const stated = parseHttpDate(clock.date, Date.parse(clock.responseAt))
  if (!Number.isFinite(stated)) return {problem: `the Console's Date header "${clock.date.slice(0, 64)}" is not an HTTP date (RFC 9110 section 5.6.7)`}
  const sent = Date.parse(clock.requestSentAt)
  const received = Date.parse(clock.responseAt)
  const skewMs = stated + DATE_RESOLUTION_MS / 2 - (sent + received) / 2
  return {skewMs: Math.round(skewMs), uncertaintyMs: Math.round(DATE_RESOLUTION_MS / 2 + (received - sent) / 2), consoleTime: new Date(stated).toISOString()}
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * An HTTP-date (RFC 9110 §5.6.7), ms since the epoch or NaN: IMF-fixdate
 * (`Sun, 06 Nov 1994 08:49:37 GMT`) and the obsolete forms a recipient must accept, RFC 850
 * (`Sunday, 06-Nov-94 08:49:37 GMT`, a two-digit year more than 50 years after `referenceMs` is read in the century before, §5.6.7)
 * and asctime (`Sun Nov  6 08:49:37 1994`). Always GMT; parsed here, not by Date.parse, which
 * reads asctime in the local time zone.
 */
export function parseHttpDate(text: string, referenceMs: number): number {
  const value = text.trim()
  let match = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(value)
  if (match) return utc(match[3]!, match[2]!, match[1]!, match[4]!, match[5]!, match[6]!)
  match = /^[A-Za-z]+, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(value)
  if (match) {
    const yy = Number(match[3])
    const thisYear = new Date(referenceMs).getUTCFullYear()
    let year = Math.floor(thisYear / 100) * 100 + yy
    if (year > thisYear + 50) year -= 100
    return utc(String(year), match[2]!, match[1]!, match[4]!, match[5]!, match[6]!)
  }
  match = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(value)
  if (match) return utc(match[6]!, match[1]!, match[2]!.trim(), match[3]!, match[4]!, match[5]!)
  return Number.NaN
}

function utc(year: string, month: string, day: string, h: string, m: string, s: string): number {
  const index = MONTHS.indexOf(month)
  if (index < 0 || Number(h) > 23 || Number(m) > 59 || Number(s) > 60 || Number(day) < 1 || Number(day) > 31) return Number.NaN
  return Date.UTC(Number(year), index, Number(day), Number(h), Number(m), Number(s))
}

/** "7 min 3 s ahead of this host's", "within 0.4 s of this host's". */
export function describeSkew(skew: ClockSkew): string {
  if (Math.abs(skew.skewMs) <= skew.uncertaintyMs) return `within ${formatSpan(skew.uncertaintyMs)} of this host's`
  return `${formatSpan(skew.skewMs)} ${skew.skewMs > 0 ? 'ahead of' : 'behind'} this host's`
}

export const CLOCK_HINT = 'a wrong clock on this host or on the Console makes valid certificates "not yet valid" or "expired" and breaks the mutual TLS: synchronise both with NTP (timedatectl, chronyc tracking)'

export function probeClockSkew(facts: ProbeFacts, policy: Policy): CheckResult {
  const clock = facts.clock
  if (!clock) return notAttempted('clock.skew', facts)
  const skew = clockSkewOf(clock)
  if ('problem' in skew) return result('clock.skew', 'skip', `${skew.problem}: the clocks were not compared`, {date: clock.date, status: clock.status})
  const warnMs = policy.clockWarnMs ?? DEFAULT_CLOCK_WARN_MS
  const failMs = policy.clockFailMs ?? DEFAULT_CLOCK_FAIL_MS
  const values = {date: clock.date, consoleTime: skew.consoleTime, localTime: clock.responseAt, skewMs: skew.skewMs, uncertaintyMs: skew.uncertaintyMs, warnMs, failMs}
  const summary = `the Console's clock (Date: ${clock.date}) is ${describeSkew(skew)} (+/- ${formatSpan(skew.uncertaintyMs)})`
  const off = Math.abs(skew.skewMs)
  if (off > failMs) return result('clock.skew', 'fail', `${summary}: more than --clock-fail ${formatSpan(failMs)}`, values, CLOCK_HINT)
  if (off > warnMs) return result('clock.skew', 'warn', `${summary}: more than --clock-warn ${formatSpan(warnMs)}`, values, CLOCK_HINT)
  return result('clock.skew', 'pass', summary, values)
}
