/**
 * The exit code of a run from its verdict (README "Exit codes"): 0 pass, 1 fail (a check failed,
 * a warning under --strict, or no Console traffic), 3 inconclusive (nothing failed, but the
 * handshake that matters was not in the capture: capture again). 2 is usage and input errors,
 * set where they are thrown (errors.ts).
 */
import type {Summary} from '../model/report.js'

export const EXIT_PASS = 0
export const EXIT_FAIL = 1
export const EXIT_INCONCLUSIVE = 3

export function exitCodeFor(summary: Summary): number {
  if (summary.verdict === 'fail') return EXIT_FAIL
  if (summary.verdict === 'inconclusive') return EXIT_INCONCLUSIVE
  return EXIT_PASS
}
