/**
 * The one formatter of capture-derived times. A capture's timestamps are input: a pcapng
 * if_tsoffset or 64-bit count can put a packet at 9.2e12 s (year ~290,000), where
 * `new Date(x).toISOString()` throws RangeError ("Invalid time value"). Every time read from a
 * capture is printed through isoTime(), which never throws; whether a time is usable at all
 * (isCaptureTimeInRange) is decided once, and an unusable one becomes an Issue, not a crash.
 */

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: what an ISO-8601 date-time can say. */
const MIN_ISO_MS = Date.parse('0000-01-01T00:00:00.000Z')
const MAX_ISO_MS = Date.parse('9999-12-31T23:59:59.999Z')

/** The capture-time range (seconds since the epoch) inside which times are printed and compared as they are. */
export const MIN_CAPTURE_SECONDS = MIN_ISO_MS / 1000
export const MAX_CAPTURE_SECONDS = MAX_ISO_MS / 1000

/** A time (seconds since the epoch) that ISO-8601 can state exactly: finite and in years 0000-9999. */
export function isCaptureTimeInRange(epochSeconds: number): boolean {
  return epochSeconds >= MIN_CAPTURE_SECONDS && epochSeconds <= MAX_CAPTURE_SECONDS
}

/**
 * ISO-8601 (UTC, ms) of a time in seconds since the epoch; never throws. Out-of-range times are
 * clamped to 0000-01-01 / 9999-12-31 (NaN to the epoch): callers that judge by the time check
 * isCaptureTimeInRange first. Date keeps ms; the frames carry the exact times.
 */
export function isoTime(epochSeconds: number): string {
  const ms = Math.min(Math.max(Number.isFinite(epochSeconds) ? Math.round(epochSeconds * 1000) : 0, MIN_ISO_MS), MAX_ISO_MS)
  // Two per connection: the date part is the same for a whole capture, and only the time of day
  // is written here (Date#toISOString costs ~1 µs).
  const day = Math.floor(ms / DAY_MS)
  if (day !== isoDay) {
    isoDay = day
    isoDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11)
  }
  const inDay = ms - day * DAY_MS
  return `${isoDayPrefix}${two(Math.floor(inDay / 3_600_000))}:${two(Math.floor(inDay / 60_000) % 60)}:${two(Math.floor(inDay / 1000) % 60)}.${String(inDay % 1000).padStart(3, '0')}Z`
}

/** isoTime() of a Date (an Invalid Date prints as the epoch instead of throwing). */
export function isoDate(date: Date): string {
  return isoTime(date.getTime() / 1000)
}

const DAY_MS = 86_400_000
let isoDay = Number.NaN
let isoDayPrefix = ''

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}
