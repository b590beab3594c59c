/**
 * `certs [DIR]`: the judging date (now, or DEFENDER_CHECK_NOW for tests), the thresholds, one
 * library call (probe/defender-certs.ts), and the report in the chosen format with its exit code
 * (0 pass or warn, 1 fail; 2, an unreadable directory or file, is thrown as an InputError).
 */
import {UsageError} from '../errors.js'
import type {CertsReport} from '../model/certs.js'
import {checkDefenderCerts, DEFAULT_CERT_FAIL_DAYS, DEFAULT_CERT_WARN_DAYS, DEFAULT_DEFENDER_CERT_DIR} from '../probe/defender-certs.js'
import {renderCertsJson, renderCertsTable} from '../report/certs.js'
import {EXIT_FAIL, EXIT_PASS} from './exit-codes.js'
import {wantsColor} from './output.js'

/**
 * The date certificates are judged at, for tests only: the fixtures' validity is absolute, so the
 * tests fix "now" rather than depend on the day they run (README "Check a Defender's certificates").
 */
export const NOW_ENV = 'DEFENDER_CHECK_NOW'

export interface CertsFlagValues {
  format?: string
  'warn-days': number
  'fail-days': number
}

export function runCerts(directory: string | undefined, flags: CertsFlagValues, env: NodeJS.ProcessEnv = process.env): CertsReport {
  if (flags['fail-days'] < 0 || flags['warn-days'] < 0) throw new UsageError('--warn-days and --fail-days are numbers of days, 0 or more')
  if (flags['fail-days'] > flags['warn-days']) throw new UsageError(`--fail-days ${flags['fail-days']} is more than --warn-days ${flags['warn-days']}: a certificate would fail before it warns`)
  let now = new Date()
  const fixed = env[NOW_ENV]
  if (fixed !== undefined && fixed !== '') {
    now = new Date(fixed)
    if (Number.isNaN(now.getTime())) throw new UsageError(`$${NOW_ENV} ${JSON.stringify(fixed)}: expected an ISO-8601 date such as 2026-12-01T00:00:00Z`)
  }
  const report = checkDefenderCerts(directory ?? DEFAULT_DEFENDER_CERT_DIR, {now, warnDays: flags['warn-days'], failDays: flags['fail-days']})
  process.exitCode = report.verdict === 'fail' ? EXIT_FAIL : EXIT_PASS
  return report
}

/** The report as the user asked: JSON with -f json, a table with -f table; otherwise a table on a terminal, JSON when piped. */
export function renderCerts(report: CertsReport, format: string | undefined): string {
  const chosen = format ?? (process.stdout.isTTY === true ? 'table' : 'json')
  return chosen === 'json' ? renderCertsJson(report) : renderCertsTable(report, {color: wantsColor(process.stdout)})
}

export {DEFAULT_CERT_FAIL_DAYS, DEFAULT_CERT_WARN_DAYS, DEFAULT_DEFENDER_CERT_DIR}
