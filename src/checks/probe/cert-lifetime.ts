/**
 * How a certificate's validity is judged against a date and the warn/fail thresholds, and the
 * forecast "this Defender stops connecting on DATE": one definition for `certs DIR`
 * (probe/defender-certs.ts) and `probe` (certs.lifetime, checks/probe/certs-lifetime.ts), pure
 * functions over dates so `watch` can reuse them.
 */
import type {CertStatus} from '../../model/certs.js'

export const DEFAULT_CERT_WARN_DAYS = 90
export const DEFAULT_CERT_FAIL_DAYS = 30

const DAY_MS = 86_400_000

export interface CertThresholds {
  warnDays: number
  failDays: number
}

export interface ValidityJudgement {
  /** Whole days from `now` to notAfter, negative once expired. */
  daysLeft: number
  status: CertStatus
  reason: string
}

/** A certificate on the Defender's path, judged at `now` (ms since the epoch); dates are ISO-8601. */
export function judgeValidity(notBefore: string, notAfter: string, now: number, thresholds: CertThresholds): ValidityJudgement {
  const until = Date.parse(notAfter)
  const from = Date.parse(notBefore)
  const daysLeft = Math.floor((until - now) / DAY_MS)
  if (now < from) {
    return {daysLeft, status: 'fail', reason: `not valid before ${notBefore} (${Math.ceil((from - now) / DAY_MS)} days from now): a wrong clock on this host or the Console is one cause`}
  }
  if (daysLeft < 0 || now >= until) return {daysLeft, status: 'fail', reason: `expired on ${notAfter}`}
  if (daysLeft < thresholds.failDays) return {daysLeft, status: 'fail', reason: `${daysLeftText(daysLeft)}, under --fail-days ${thresholds.failDays}`}
  if (daysLeft < thresholds.warnDays) return {daysLeft, status: 'warn', reason: `${daysLeftText(daysLeft)}, under --warn-days ${thresholds.warnDays}`}
  return {daysLeft, status: 'pass', reason: daysLeftText(daysLeft)}
}

export function daysLeftText(days: number): string {
  if (days < 0) return `expired ${-days} day${days === -1 ? '' : 's'} ago`
  return `${days} day${days === 1 ? '' : 's'} left`
}

export interface Forecast {
  /** notAfter's date (YYYY-MM-DD) of the earliest-expiring certificate on the path. */
  date: string
  daysLeft: number
  /** That certificate: where it is and its subject. */
  limitedBy: string
  line: string
}

/** The earliest expiry among the certificates on the path: when this Defender stops connecting. */
export function forecastOf(onPath: ReadonlyArray<{notAfter: string; daysLeft: number; where: string; subject: string}>, now: number): Forecast | undefined {
  if (onPath.length === 0) return undefined
  const earliest = onPath.reduce((first, cert) => (Date.parse(cert.notAfter) < Date.parse(first.notAfter) ? cert : first))
  const date = earliest.notAfter.slice(0, 10)
  const limitedBy = `${earliest.where} (${earliest.subject})`
  const line =
    earliest.daysLeft < 0 || now >= Date.parse(earliest.notAfter)
      ? `this Defender cannot connect: ${limitedBy} expired on ${date}; redeploy it`
      : `this Defender stops connecting on ${date} unless it is redeployed (${limitedBy} expires then, ${daysLeftText(earliest.daysLeft)})`
  return {date, daysLeft: earliest.daysLeft, limitedBy, line}
}
