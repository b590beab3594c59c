/**
 * `certs DIR`'s report as text (one block per certificate, then the key, the chain, the
 * forecast and the verdict) or JSON (schema/certs.schema.json). Nothing here sees key material:
 * the report holds none.
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {CertsReport, CertStatus, DirectoryCertificate} from '../model/certs.js'

export function renderCertsJson(report: CertsReport): string {
  return `${JSON.stringify(report, null, 2)}\n`
}

export function renderCertsTable(report: CertsReport, options: {color: boolean; ascii?: boolean}): string {
  const chalk = new Chalk({level: options.color ? 1 : 0})
  const arrow = options.ascii ? '->' : '→'
  const lines = [
    chalk.bold(`${report.tool.name} ${report.tool.version}: ${report.directory}`),
    `judged at ${report.now}; warn under ${report.thresholds.warnDays} days left, fail under ${report.thresholds.failDays}`,
    '',
  ]
  for (const cert of report.certificates) lines.push(...certificateBlock(cert, chalk, arrow), '')
  if (report.omittedCertificates !== undefined) lines.push(chalk.yellow(`${report.omittedCertificates} more certificate(s) in a CA bundle not read (limit MAX_CA_BUNDLE_CERTIFICATES)`), '')
  lines.push(`${status(report.key.status, chalk)}  ${report.key.file}: ${report.key.reason}`)
  lines.push(`${status(report.chain.status, chalk)}  chain: ${report.chain.reason}`)
  lines.push('', chalk.bold(`Forecast: ${report.forecast.line}`), chalk.bold(`Verdict: ${report.verdict.toUpperCase()}`))
  return `${lines.join('\n')}\n`
}

function certificateBlock(cert: DirectoryCertificate, chalk: ChalkInstance, arrow: string): string[] {
  const role = {client: 'client certificate', ca: 'CA', 'ca-old': 'old CA', 'client-old': 'previous client certificate'}[cert.role]
  const generation = cert.generation === undefined ? 'no known CA generation' : `${cert.generation} CA generation`
  return [
    `${status(cert.status, chalk)}  ${chalk.bold(cert.file)}  ${role}, ${generation}${cert.onPath ? '' : ', not on the path'}`,
    `      subject  ${cert.subject}`,
    `      issuer   ${cert.issuer}`,
    `      valid    ${cert.notBefore} ${arrow} ${cert.notAfter}`,
    `      ${cert.reason}`,
  ]
}

function status(value: CertStatus, chalk: ChalkInstance): string {
  const text = value.toUpperCase().padEnd(4)
  return value === 'pass' ? chalk.green(text) : value === 'warn' ? chalk.yellow(text) : chalk.red(text)
}
