/**
 * certs.lifetime: what `certs DIR` reports, for the certificates the probe used (the Defender's
 * client certificate, the CA bundle) and the Console's chain: validity and days left at the
 * probe's time, judged by --warn-days / --fail-days (cert-lifetime.ts, shared with `certs`), and
 * the forecast: the date this Defender stops connecting unless it is redeployed (the earliest
 * expiry among its client certificate and the CA that issued it), and the date the Console's
 * chain stops being valid. Certificates off the path (other CAs of the bundle) do not count.
 */
import type {CertStatus} from '../../model/certs.js'
import type {CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeCertificate, ProbeFacts} from '../../model/probe.js'
import {DEFAULT_CERT_FAIL_DAYS, DEFAULT_CERT_WARN_DAYS, daysLeftText, forecastOf, judgeValidity, type ValidityJudgement} from './cert-lifetime.js'
import {notAttempted, result} from './common.js'

export interface JudgedCertificate extends ProbeCertificate, ValidityJudgement {
  /** Which side's forecast it limits: the Defender's (redeploy) or the Console's (renew). */
  side: 'defender' | 'console'
}

const ROLE_NAMES: Record<ProbeCertificate['role'], string> = {client: 'client certificate', ca: 'CA', console: 'Console certificate', 'console-chain': 'Console chain certificate'}

/** Every certificate judged at `now` (ms): the on-path ones by the thresholds, the others pass as not counting. */
export function judgeCertificates(certificates: readonly ProbeCertificate[], now: number, policy: Policy): JudgedCertificate[] {
  const thresholds = {warnDays: policy.certWarnDays ?? DEFAULT_CERT_WARN_DAYS, failDays: policy.certFailDays ?? DEFAULT_CERT_FAIL_DAYS}
  const client = certificates.find((cert) => cert.role === 'client')
  return certificates.map((cert) => {
    const judged = judgeValidity(cert.validFrom, cert.validTo, now, thresholds)
    // A CA of the bundle limits the Defender when it issued the client certificate (by name here; onPath was decided by signature).
    const side = cert.role === 'client' || (cert.role === 'ca' && client !== undefined && cert.subject === client.issuer) ? 'defender' : 'console'
    if (!cert.onPath) return {...cert, ...judged, side, status: 'pass', reason: `${daysLeftText(judged.daysLeft)}; not on this connection's path, so it does not count`}
    return {...cert, ...judged, side}
  })
}

/** `CN=console.test` of `O=defender-check test, CN=console.test`; the whole subject without a CN. */
function commonNameOf(subject: string): string {
  return /(?:^|, )(CN=[^,]+)/.exec(subject)?.[1] ?? subject
}

export function probeCertsLifetime(facts: ProbeFacts, policy: Policy): CheckResult {
  if (!facts.handshake) return notAttempted('certs.lifetime', facts)
  const certificates = facts.certificates ?? []
  if (certificates.length === 0) return result('certs.lifetime', 'skip', 'no certificate was used or shown: the probe had no client certificate or CA bundle and the Console presented none (see tls.certificate)')
  const now = Date.parse(facts.startedAt)
  const judged = judgeCertificates(certificates, now, policy)
  const onPath = judged.filter((cert) => cert.onPath)
  const where = (cert: JudgedCertificate) => (cert.role === 'client' || cert.role === 'ca' ? cert.source : 'the Console\'s chain')
  const defender = forecastOf(onPath.filter((cert) => cert.side === 'defender').map((cert) => ({...cert, notAfter: cert.validTo, where: where(cert)})), now)
  const consoleSide = onPath.filter((cert) => cert.side === 'console')
  const consoleForecast = forecastOf(consoleSide.map((cert) => ({...cert, notAfter: cert.validTo, where: where(cert)})), now)
  const status: CertStatus = onPath.some((cert) => cert.status === 'fail') ? 'fail' : onPath.some((cert) => cert.status === 'warn') ? 'warn' : 'pass'

  // One short line per certificate (its CN when it has one); the JSON values carry each in full.
  const lines = judged.map((cert) => `${ROLE_NAMES[cert.role]} "${commonNameOf(cert.subject)}": ${cert.status === 'pass' ? '' : `${cert.status.toUpperCase()} `}${cert.reason}`)
  const forecasts: string[] = []
  if (defender) forecasts.push(defender.line)
  if (consoleForecast) {
    forecasts.push(
      consoleForecast.daysLeft < 0
        ? `the Console's chain has expired (${consoleForecast.limitedBy})`
        : `the Console's chain is valid until ${consoleForecast.date} (${consoleForecast.limitedBy}, ${daysLeftText(consoleForecast.daysLeft)})`,
    )
  }
  const omitted = facts.omittedCertificates !== undefined ? `; ${facts.omittedCertificates} more certificate(s) of the CA bundle not read (MAX_CA_BUNDLE_CERTIFICATES)` : ''
  const summary = `${forecasts.join('; ')}. ${lines.join('; ')}${omitted}`
  const values = {
    now: new Date(now).toISOString(),
    thresholds: {warnDays: policy.certWarnDays ?? DEFAULT_CERT_WARN_DAYS, failDays: policy.certFailDays ?? DEFAULT_CERT_FAIL_DAYS},
    certificates: judged.map(({side: _side, ...cert}) => cert),
    ...(defender ? {forecast: defender} : {}),
    ...(consoleForecast ? {consoleForecast} : {}),
  }
  if (status === 'pass') return result('certs.lifetime', 'pass', summary, values)
  const failing = onPath.filter((cert) => cert.status === status)
  const hints: string[] = []
  if (failing.some((cert) => cert.side === 'defender')) hints.push('redeploy the Defender: it gets a new client certificate from the Console\'s current Defender CA (after a CA rotation, a Defender that is not redeployed keeps the old one)')
  if (failing.some((cert) => cert.side === 'console')) hints.push('renew the Console\'s certificate (or its CA) before it expires')
  if (failing.some((cert) => now < Date.parse(cert.validFrom))) hints.push('a certificate not yet valid: check this host\'s clock (see clock.skew)')
  return result('certs.lifetime', status, summary, values, hints.join('; '))
}
