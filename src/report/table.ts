/**
 * The report for a person at a terminal: a header (what was read, under which policy), one
 * block per connection with a row per check, the hint under what needs doing, and the verdict.
 * Pure: the caller decides colour (NO_COLOR, TTY) and width, and writes the string.
 */
import {Chalk, type ChalkInstance} from 'chalk'
import Table from 'cli-table3'
import {isCaptureFacts, type AnalysisReport, type ConnectionReport} from '../analysis/types.js'
import type {TunnelInfo} from '../dissect/types.js'
import type {CheckResult, CheckStatus} from '../checks/types.js'
import {formatEndpoint} from '../checks/text.js'
import {describeNoTraffic, describePolicy, formatDuration, isoSpanSeconds} from './text.js'

export interface TableOptions {
  /** ANSI colours (chalk level 1) when true; none at all when false. */
  color: boolean
  /** Columns to fit (the terminal's width; 100 for a file). */
  width: number
  /** Box drawing and arrows in plain ASCII; defaults to !color, so uncoloured output is ASCII-safe. */
  ascii?: boolean
}

const ASCII_BORDERS = {
  top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
  bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
  left: '|', 'left-mid': '', mid: '', 'mid-mid': '', right: '|', 'right-mid': '', middle: '|',
}
const UNICODE_BORDERS = {'left-mid': '', mid: '', 'mid-mid': '', 'right-mid': ''}

/** Column widths, padding included: the longest id (tls.client-certificate), PASS, observed/inferred. */
const ID_WIDTH = 24
const STATUS_WIDTH = 8
const CONFIDENCE_WIDTH = 12
/** cli-table3 draws one border character left, right and between each of the 4 columns. */
const BORDERS = 5
const MIN_SUMMARY_WIDTH = 20
/** Inner padding of a cell (one space each side). */
const PADDING = 2
/** Issues listed under a connection before "and N more". */
const MAX_ISSUES = 10

interface Style {
  chalk: ChalkInstance
  ascii: boolean
  arrow: string
  /** Marks the hint row under its check. */
  hintMark: string
}

export function renderTable(report: AnalysisReport, options: TableOptions): string {
  const ascii = options.ascii ?? !options.color
  const style: Style = {chalk: new Chalk({level: options.color ? 1 : 0}), ascii, arrow: ascii ? '->' : '→', hintMark: ascii ? '->' : '↳'}
  const lines: string[] = [...header(report, options.width, style), '']
  if (report.connections.length === 0) {
    const text = describeNoTraffic(report)
    lines.push(style.chalk.bold(wrap(clean(text.headline), options.width)), wrap(clean(text.seenInstead), options.width), wrap(clean(text.advice), options.width), '')
  }
  for (const connection of report.connections) lines.push(...connectionBlock(connection, options.width, style), '')
  lines.push(summaryLine(report, options.width, style))
  return lines.join('\n')
}

function header(report: AnalysisReport, width: number, style: Style): string[] {
  const {source} = report
  const format = source.capture ? `${source.capture.format}${source.capture.gzip ? ', gzip' : ''}` : source.kind
  const lines = [style.chalk.bold(wrap(clean(`${report.tool.name} ${report.tool.version}: ${source.name} (${format}), ${source.frames} frame${source.frames === 1 ? '' : 's'}`), width))]
  if (source.firstTs !== undefined && source.lastTs !== undefined) {
    lines.push(wrap(`time: ${source.firstTs} ${style.arrow} ${source.lastTs} (${formatDuration(isoSpanSeconds(source.firstTs, source.lastTs))})`, width))
  }
  lines.push(wrap(clean(`policy: ${describePolicy(report.policy)}`), width))
  for (const issue of source.issues) lines.push(style.chalk.yellow(wrap(clean(`capture ${issue.severity}: ${issue.message} [${issue.code}]`), width)))
  return lines
}

function connectionBlock(connection: ConnectionReport, width: number, style: Style): string[] {
  const {chalk} = style
  const {tcp} = connection.facts
  const tunnels = isCaptureFacts(connection.facts) ? connection.facts.tunnels : undefined
  const via = tunnels?.map((t) => ` via ${TUNNEL_NAMES[t.type]} ${t.type === 'gre' ? 'key' : t.type === 'erspan' ? 'session' : 'VNI'} ${t.vni} (${t.outerSrc} ${style.arrow} ${t.outerDst})`).join('') ?? ''
  const title = `#${connection.id} ${formatEndpoint(connection.client)} ${style.arrow} ${formatEndpoint(connection.server)}${via} (${connection.startedAt}, ${formatDuration(tcp.endTs - tcp.startTs)})`
  const summaryWidth = Math.max(MIN_SUMMARY_WIDTH, width - ID_WIDTH - STATUS_WIDTH - CONFIDENCE_WIDTH - BORDERS)
  const table = new Table({
    head: ['check', 'status', 'confidence', 'summary'],
    colWidths: [ID_WIDTH, STATUS_WIDTH, CONFIDENCE_WIDTH, summaryWidth],
    // Cells arrive wrapped by wrap() below; cli-table3's own word wrap would re-measure every word
    // with string-width (a fresh ANSI regex per call) and made the table 2-3x slower for the same
    // output (tls-handshake.pcapng, 59 connections: 1.6 s instead of 0.6 s).
    wordWrap: false,
    chars: style.ascii ? ASCII_BORDERS : UNICODE_BORDERS,
    truncate: style.ascii ? '~' : '…',
    style: {head: [], border: []},
  })
  for (const check of connection.checks) {
    table.push([check.id, statusCell(check.status, chalk), check.confidence, dimIfSkip(wrap(clean(check.summary), summaryWidth - PADDING), check, chalk)])
    if (check.hint !== undefined && (check.status === 'fail' || check.status === 'warn')) {
      table.push(['', '', '', `${chalk.bold(`${style.hintMark} hint:`)} ${wrap(clean(check.hint), summaryWidth - PADDING, style.hintMark.length + 7)}`])
    }
  }
  const lines = [`${chalk.bold(wrap(clean(title), width - 6))}  ${statusCell(connection.verdict, chalk)}`]
  const tls = tlsLine(connection)
  if (tls !== undefined) lines.push(wrap(clean(tls), width))
  lines.push(table.toString())
  const issues = connection.facts.issues
  for (const issue of issues.slice(0, MAX_ISSUES)) {
    lines.push(chalk.yellow(wrap(clean(`  ${issue.severity}: ${issue.message} [${issue.code}${issue.frame !== undefined ? `, frame ${issue.frame}` : ''}]`), width)))
  }
  if (issues.length > MAX_ISSUES) lines.push(chalk.yellow(`  ... and ${issues.length - MAX_ISSUES} more issues (see --format json)`))
  return lines
}

const TUNNEL_NAMES: Record<TunnelInfo['type'], string> = {geneve: 'GENEVE', vxlan: 'VXLAN', gre: 'GRE', erspan: 'ERSPAN'}

/** What a person looks for first in a TLS connection: version, cipher, SNI, ALPN, JA4, the certificate's subject. */
function tlsLine(connection: ConnectionReport): string | undefined {
  const tls = isCaptureFacts(connection.facts) ? connection.facts.tls : undefined
  if (!tls) return undefined
  if (tls.notTls) return `not TLS: the ${tls.notTls.direction === 'c2s' ? 'client' : 'server'} sent ${tls.notTls.firstBytes} (frame ${tls.notTls.frame})`
  const hello = tls.clientHellos[0]
  const parts: string[] = []
  if (tls.versionName) parts.push(tls.versionName)
  if (tls.cipherSuiteName) parts.push(tls.cipherSuiteName)
  if (tls.helloRetryRequest) parts.push('after HelloRetryRequest')
  if (hello?.sni) parts.push(`SNI ${hello.sni}`)
  const alpn = tls.serverHello?.alpn ?? hello?.alpn?.join(',')
  if (alpn) parts.push(`ALPN ${alpn}`)
  if (hello) parts.push(`JA4 ${hello.ja4}`)
  const leaf = tls.serverCertificate?.certificates[0]
  if (leaf) parts.push(`certificate ${leaf.subject} (issuer ${leaf.issuer}, until ${leaf.notAfter.slice(0, 10)})`)
  return parts.length > 0 ? `  ${parts.join('  |  ')}` : undefined
}

function statusCell(status: CheckStatus, chalk: ChalkInstance): string {
  switch (status) {
    case 'pass':
      return chalk.green('PASS')
    case 'fail':
      return chalk.red.bold('FAIL')
    case 'warn':
      return chalk.yellow('WARN')
    case 'skip':
      return chalk.dim('SKIP')
  }
}

function dimIfSkip(text: string, check: CheckResult, chalk: ChalkInstance): string {
  return check.status === 'skip' ? chalk.dim(text) : text
}

function summaryLine(report: AnalysisReport, width: number, style: Style): string {
  const {summary} = report
  const plural = summary.connections === 1 ? '' : 's'
  const reason = summary.reason !== undefined ? ` (${summary.reason})` : ''
  const text = `${summary.connections} connection${plural}: ${summary.pass} pass, ${summary.fail} fail, ${summary.warn} warn, ${summary.skip} skip. Verdict: ${summary.verdict.toUpperCase()}${reason}`
  const verdict = summary.verdict === 'pass' ? style.chalk.green.bold('PASS') : style.chalk.red.bold('FAIL')
  return wrap(clean(text), width).replace(/Verdict:(\s+)(PASS|FAIL)/, (_match, space: string) => `Verdict:${space}${verdict}`)
}

/**
 * Text from the capture (SNI, certificate names, HTTP headers) may hold control characters; a
 * terminal would execute them (ESC sequences). Show them as \xNN instead.
 */
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/**
 * Wraps at spaces to `width` columns and cuts words longer than that (a fingerprint, a long
 * host name) instead of letting cli-table3 truncate them. `firstLineTaken` columns of the first
 * line are already used by a prefix.
 */
function wrap(text: string, width: number, firstLineTaken = 0): string {
  const lines: string[] = []
  let line = ''
  let room = width - firstLineTaken
  const flush = () => {
    lines.push(line)
    line = ''
    room = width
  }
  for (let word of text.split(' ')) {
    while (word.length > room) {
      if (line !== '') {
        flush()
        continue
      }
      line = word.slice(0, room)
      word = word.slice(room)
      flush()
    }
    if (line === '') line = word
    else if (line.length + 1 + word.length <= room) line += ` ${word}`
    else {
      flush()
      line = word
    }
  }
  lines.push(line)
  return lines.join('\n')
}
