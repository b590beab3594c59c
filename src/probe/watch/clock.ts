/**
 * The Console's clock against ours, from the `Date` header of its 101 answer (RFC 9110 §6.6.1:
 * the time the response was generated, to the second). A Defender whose clock is off by minutes
 * sees valid certificates as "not yet valid" or expired.
 *
 * Kept here, small and pure, for `watch`'s defender_check_clock_skew_seconds; the probe's
 * `clock.skew` check (issue 18) computes the same from the same header: one of them goes at merge.
 */

/**
 * Seconds the Console's clock is ahead of ours (negative: behind), or undefined without a
 * parsable Date. The server stamped the header somewhere between our request (`sentAtMs`) and
 * its arrival (`receivedAtMs`); HTTP dates are truncated to the second, so the server's time was
 * in [Date, Date + 1 s): both midpoints are compared, and the result is good to about ±(0.5 s +
 * half the round trip).
 */
export function clockSkewSeconds(dateHeader: string | undefined, sentAtMs: number, receivedAtMs: number): number | undefined {
  if (dateHeader === undefined) return undefined
  const serverMs = Date.parse(dateHeader)
  if (!Number.isFinite(serverMs)) return undefined
  const localMidMs = (sentAtMs + receivedAtMs) / 2
  return Math.round((serverMs + 500 - localMidMs)) / 1000
}
