/**
 * The report for a person at a terminal: a header (what was read, under which policy), one
 * block per connection with a row per check, the hint under what needs doing, and the verdict.
 * Pure: the caller decides colour (NO_COLOR, TTY) and width, and writes the string.
 */
import {appendAll} from '../lists.js'
import {Chalk, type ChalkInstance} from 'chalk'
import {isCaptureFacts, type AnalysisReport, type ConnectionReport} from '../model/report.js'
import type {TunnelInfo} from '../packet/types.js'
import type {CheckResult, ConnectionVerdict} from '../model/checks.js'
import type {DefenderReport, DefenderView, DurationStats} from '../model/defenders.js'
import {formatEndpoint} from '../model/format.js'
import {renderBoxTable} from './box-table.js'
import {ConnectionDigest} from './digest.js'
import {printable, renderTimeline} from './timeline-text.js'
import {describeHairpin, describeNoTraffic, describeTls, describePolicy, formatDuration, isoSpanSeconds} from './text.js'

export interface TableOptions {
  /** ANSI colours (chalk level 1) when true; none at all when false. */
  color: boolean
  /** Columns to fit (the terminal's width; 100 for a file). */
  width: number
  /** Box drawing and arrows in plain ASCII; defaults to !color, so uncoloured output is ASCII-safe. */
  ascii?: boolean
  /**
   * Print every connection's block. Otherwise a capture with more than SUMMARY_THRESHOLD
   * connections gets a summary (counts per verdict and per failing check) and the worst
   * WORST_SHOWN connections only: 100,000 blocks help nobody at a terminal.
   */
  all?: boolean
  /**
   * Ladder diagrams under the connection blocks: 'failing' (the default) for connections that
   * failed a check, 'all' for every connection shown (--timeline), 'none' (--no-timeline).
   */
  timeline?: 'failing' | 'all' | 'none'
}

/** Defenders listed in the "Defenders" section, worst first (--all: every one). */
export const DEFENDERS_SHOWN = 10

/** Connections above which the table summarises instead of printing every block. */
export const SUMMARY_THRESHOLD = 20
/** Connections printed in full under the summary, worst first. */
export const WORST_SHOWN = 10

/** Column widths, padding included: the longest id (tls.client-certificate), PASS, observed/inferred. */
const ID_WIDTH = 24
const STATUS_WIDTH = 8
const CONFIDENCE_WIDTH = 12
/** One border character left, right and between each of the 4 columns. */
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

export function renderTable(report: AnalysisReport, options: TableOptions, digest?: ConnectionDigest): string {
  const ascii = options.ascii ?? !options.color
  const style: Style = {chalk: new Chalk({level: options.color ? 1 : 0}), ascii, arrow: ascii ? '->' : '→', hintMark: ascii ? '->' : '↳'}
  const lines: string[] = [...header(report, options.width, style), '']
  if (report.summary.connections === 0) {
    const text = describeNoTraffic(report)
    lines.push(style.chalk.bold(wrap(clean(text.headline, style.ascii), options.width)), wrap(clean(text.seenInstead, style.ascii), options.width), wrap(clean(text.advice, style.ascii), options.width), '')
  }
  // --all prints what the report lists; otherwise a small capture is printed whole and a big one
  // summarised from its digest (built here when the caller did not stream one).
  let shown: ConnectionReport[]
  if (options.all === true) {
    shown = report.connections
  } else {
    const seen = digest ?? tableDigest(report.connections)
    const every = seen.everyConnection()
    shown = every ?? seen.worst()
    if (every === undefined) appendAll(lines, bigCaptureSummary(seen, shown.length, options.width, style)).push('')
  }
  const timeline = options.timeline ?? 'failing'
  for (const connection of shown) {
    appendAll(lines, connectionBlock(connection, options.width, style)).push('')
    if (timeline === 'all' || (timeline === 'failing' && connection.verdict === 'fail')) {
      const ladder = renderTimeline(connection, {color: options.color, width: options.width, ascii, title: false})
      if (ladder !== '') lines.push(ladder, '')
    }
  }
  if (report.defenders !== undefined && report.defenders.defenders.length + report.defenders.overflow > 0) {
    appendAll(lines, defendersSection(report.defenders, options.width, style, options.all === true)).push('')
  }
  lines.push(summaryLine(report, options.width, style))
  return lines.join('\n')
}

/** The digest the table is drawn from: every connection up to SUMMARY_THRESHOLD, the WORST_SHOWN worst. */
export function tableDigest(connections: Iterable<ConnectionReport> = []): ConnectionDigest {
  return ConnectionDigest.of(connections, {keepAllUpTo: SUMMARY_THRESHOLD, worst: WORST_SHOWN})
}

function header(report: AnalysisReport, width: number, style: Style): string[] {
  const {source} = report
  const format = source.capture ? `${source.capture.format}${source.capture.gzip ? ', gzip' : ''}` : source.kind
  const lines = [style.chalk.bold(wrap(clean(`${report.tool.name} ${report.tool.version}: ${source.name} (${format}), ${source.frames} frame${source.frames === 1 ? '' : 's'}`, style.ascii), width))]
  if (source.firstTs !== undefined && source.lastTs !== undefined) {
    lines.push(wrap(`time: ${source.firstTs} ${style.arrow} ${source.lastTs} (${formatDuration(isoSpanSeconds(source.firstTs, source.lastTs))})`, width))
  }
  lines.push(wrap(clean(`policy: ${describePolicy(report.policy)}`, style.ascii), width))
  for (const issue of source.issues) lines.push(style.chalk.yellow(wrap(clean(`capture ${issue.severity}: ${issue.message} [${issue.code}]`, style.ascii), width)))
  return lines
}

function connectionBlock(connection: ConnectionReport, width: number, style: Style): string[] {
  const {chalk} = style
  const {tcp} = connection.facts
  const tunnels = isCaptureFacts(connection.facts) ? connection.facts.tunnels : undefined
  const describeTunnel = (t: TunnelInfo) => ` via ${TUNNEL_NAMES[t.type]} ${t.type === 'gre' ? 'key' : t.type === 'erspan' ? 'session' : 'VNI'} ${t.vni} (${t.outerSrc} ${style.arrow} ${t.outerDst}${describeTunnelOptions(t, style.arrow)})`
  const replyTunnels = isCaptureFacts(connection.facts) ? connection.facts.replyTunnels : undefined
  const via = (tunnels?.map(describeTunnel).join('') ?? '') + (replyTunnels === undefined ? '' : `, replies${replyTunnels.map(describeTunnel).join('')}`)
  const title = `#${connection.id} ${formatEndpoint(connection.client)} ${style.arrow} ${formatEndpoint(connection.server)}${via} (${connection.startedAt}, ${formatDuration(tcp.endTs - tcp.startTs)})`
  const summaryWidth = Math.max(MIN_SUMMARY_WIDTH, width - ID_WIDTH - STATUS_WIDTH - CONFIDENCE_WIDTH - BORDERS)
  const rows: string[][] = []
  for (const check of connection.checks) {
    rows.push([check.id, statusCell(check.status, chalk), check.confidence, dimIfSkip(wrap(clean(check.summary, style.ascii), summaryWidth - PADDING), check, chalk)])
    if (check.hint !== undefined && (check.status === 'fail' || check.status === 'warn')) {
      rows.push(['', '', '', `${chalk.bold(`${style.hintMark} hint:`)} ${wrap(clean(check.hint, style.ascii), summaryWidth - PADDING, style.hintMark.length + 7)}`])
    }
  }
  const table = renderBoxTable(rows, {head: ['check', 'status', 'confidence', 'summary'], colWidths: [ID_WIDTH, STATUS_WIDTH, CONFIDENCE_WIDTH, summaryWidth], ascii: style.ascii})
  // The verdict's label (PASS ... INCONCLUSIVE) ends the title's last line, two spaces after it.
  const lines = [`${chalk.bold(wrap(clean(title, style.ascii), width - 2 - connection.verdict.length))}  ${statusCell(connection.verdict, chalk)}`]
  const tls = describeTls(connection)
  if (tls.length > 0) lines.push(wrap(clean(`  ${tls.join('  |  ')}`, style.ascii), width))
  const hairpin = isCaptureFacts(connection.facts) ? connection.facts.hairpin : undefined
  if (hairpin !== undefined) lines.push(wrap(clean(`  ${describeHairpin(hairpin, style.arrow)}`, style.ascii), width, 4))
  lines.push(table)
  if (connection.inconclusive !== undefined) {
    lines.push(chalk.yellow(wrap(clean(`  inconclusive: ${connection.inconclusive.reason}`, style.ascii), width, 4)))
    lines.push(wrap(clean(`  ${style.hintMark} hint: ${connection.inconclusive.hint}`, style.ascii), width, 4))
  }
  const issues = connection.facts.issues
  for (const issue of issues.slice(0, MAX_ISSUES)) {
    lines.push(chalk.yellow(wrap(clean(`  ${issue.severity}: ${issue.message} [${issue.code}${issue.frame !== undefined ? `, frame ${issue.frame}` : ''}]`, style.ascii), width)))
  }
  if (issues.length > MAX_ISSUES) lines.push(chalk.yellow(`  ... and ${issues.length - MAX_ISSUES} more issues (see --format json)`))
  return lines
}

/**
 * The head of a big capture's table: connections per verdict, the TLS handshakes seen, and each
 * failing or warning check with how many connections it hit and the first one's summary.
 */
function bigCaptureSummary(digest: ConnectionDigest, shown: number, width: number, style: Style): string[] {
  const {chalk} = style
  const {verdicts} = digest
  const lines = [
    chalk.bold(wrap(`${digest.connections} connections to the Console: ${verdicts.pass} pass, ${verdicts.warn} warn, ${verdicts.fail} fail${verdicts.inconclusive > 0 ? `, ${verdicts.inconclusive} inconclusive` : ''}${verdicts.skip > 0 ? `, ${verdicts.skip} skip` : ''} (verdict per connection)`, width)),
    wrap(`TLS handshakes: ${digest.clientHellos} ClientHello, ${digest.serverHellos} ServerHello in ${digest.withTls} TLS connections (${digest.tls13} negotiated TLS 1.3)`, width),
  ]
  const reasons = digest.reasons()
  if (reasons.length > 0) {
    lines.push('failing and warning checks (connections hit, first example):')
    for (const reason of reasons) {
      const text = `${reason.id}: ${reason.connections} connection${reason.connections === 1 ? '' : 's'}, e.g. #${reason.connection}: ${reason.example.summary}`
      lines.push(`  ${statusCell(reason.status, chalk)} ${wrap(clean(text, style.ascii), width, 7)}`)
    }
  }
  const rest = verdicts.fail + verdicts.inconclusive + verdicts.warn - shown
  lines.push(wrap(
    shown === 0
      ? 'no connection failed or warned; --all prints every connection, --format json or ndjson carries everything'
      : `the ${shown} worst connection${shown === 1 ? '' : 's'} follow${shown === 1 ? 's' : ''}${rest > 0 ? ` (${rest} more failed or warned${verdicts.inconclusive > 0 ? ', or were inconclusive' : ''})` : ''}; --all prints every connection, --format json or ndjson carries everything`,
    width,
  ))
  return lines
}

/** Bytes of an option's data shown in the title; --format json carries all of it. */
const SHOWN_OPTION_BYTES = 32

/**
 * A tunnel's GENEVE options, as `, options: 0x0103/0x20 (microperimeter, 8 B: 00000001)`, and a
 * Microperimeter direction as `, workload -> firewall (from the outer addresses)`. '' when the
 * tunnel has neither, so other tunnels print as before.
 */
function describeTunnelOptions(tunnel: TunnelInfo, arrow: string): string {
  if (tunnel.options.length === 0) return ''
  const options = tunnel.options.map((option) => {
    const data = option.data.length > SHOWN_OPTION_BYTES * 2 ? `${option.data.slice(0, SHOWN_OPTION_BYTES * 2)}...` : option.data
    const notes = [option.name, option.critical ? 'critical' : undefined, `${option.length} B${data === '' ? '' : `: ${data}`}`].filter((note) => note !== undefined)
    return `0x${option.optionClass.toString(16).padStart(4, '0')}/0x${option.type.toString(16).padStart(2, '0')} (${notes.join(', ')})`
  })
  const direction = tunnel.direction === undefined ? '' : `, ${tunnel.direction === 'workload-to-firewall' ? `workload ${arrow} firewall` : `firewall ${arrow} workload`} (from the outer addresses)`
  return `, option${options.length === 1 ? '' : 's'}: ${options.join(', ')}${direction}`
}

const TUNNEL_NAMES: Record<TunnelInfo['type'], string> = {geneve: 'GENEVE', vxlan: 'VXLAN', gre: 'GRE', erspan: 'ERSPAN'}

function statusCell(status: ConnectionVerdict, chalk: ChalkInstance): string {
  switch (status) {
    case 'inconclusive':
      return chalk.yellow.bold('INCONCLUSIVE')
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
  const verdict = summary.verdict === 'pass' ? style.chalk.green.bold('PASS') : summary.verdict === 'inconclusive' ? style.chalk.yellow.bold('INCONCLUSIVE') : style.chalk.red.bold('FAIL')
  const line = wrap(clean(text, style.ascii), width).replace(/Verdict:(\s+)(PASS|FAIL|INCONCLUSIVE)/, (_match, space: string) => `Verdict:${space}${verdict}`)
  // An inconclusive verdict says how to capture again (fail > inconclusive > pass).
  return summary.hint === undefined ? line : `${line}\n${wrap(clean(`${style.hintMark} hint: ${summary.hint}`, style.ascii), width, 4)}`
}

/**
 * Text from the capture (SNI, certificate names, HTTP headers) may hold control characters; a
 * terminal would execute them (ESC sequences). Show them as \xNN instead. Without colour (a
 * pipe, a file) the table is plain ASCII, as the ladder is: our own symbols (— § →) are spelled
 * out and any other non-ASCII character becomes '?', before wrapping, so widths stay exact.
 */
function clean(text: string, ascii: boolean): string {
  return printable(text, ascii)
}

/**
 * Wraps at spaces to `width` columns and cuts words longer than that (a fingerprint, a long
 * host name) instead of letting the table cut them with an ellipsis. `firstLineTaken` columns of the first
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

const DEFENDER_RANK: Record<ConnectionVerdict, number> = {fail: 0, inconclusive: 1, warn: 2, pass: 3, skip: 4}

/**
 * The per-Defender view (issue 18): counts per verdict, then the worst DEFENDERS_SHOWN Defenders
 * (every one with --all), each with its connections, sessions, endings and channel.stability.
 */
function defendersSection(view: DefenderView, width: number, style: Style, all: boolean): string[] {
  const {chalk} = style
  const counts: Record<ConnectionVerdict, number> = {fail: 0, inconclusive: 0, warn: 0, pass: 0, skip: 0}
  for (const defender of view.defenders) counts[defender.verdict]++
  const states = (['fail', 'inconclusive', 'warn', 'pass', 'skip'] as const).filter((v) => counts[v] > 0).map((v) => `${counts[v]} ${v}`)
  const lines = [chalk.bold(wrap(`Defenders: ${view.defenders.length} (${states.join(', ')}), grouped by client address, client certificate subject (when visible) and SNI`, width))]
  if (view.overflow > 0) {
    lines.push(chalk.yellow(wrap(`${view.overflow}${view.overflow >= view.limit ? ' or more' : ''} more Defenders past the limit of ${view.limit} were not grouped (their ${view.overflowConnections ?? 0} connections are judged one by one above)`, width)))
  }
  const ordered = [...view.defenders].sort((a, b) => DEFENDER_RANK[a.verdict] - DEFENDER_RANK[b.verdict] || b.connections - a.connections || (a.identity.key < b.identity.key ? -1 : 1))
  const shown = all ? ordered : ordered.slice(0, DEFENDERS_SHOWN)
  if (shown.length < ordered.length) lines.push(wrap(`the ${shown.length} worst follow (${ordered.length - shown.length} more); --all lists every Defender, --format json carries everything`, width))
  for (const defender of shown) appendAll(lines, defenderBlock(defender, width, style))
  return lines
}

function defenderBlock(defender: DefenderReport, width: number, style: Style): string[] {
  const {chalk} = style
  const label = statusCell(defender.verdict, chalk)
  const lines = [`${label} ${chalk.bold(wrap(clean(defender.identity.key, style.ascii), width - 2 - defender.verdict.length))}`]
  const facts = [
    `${defender.connections} connection${defender.connections === 1 ? '' : 's'} ${defender.firstSeen} ${style.arrow} ${defender.lastSeen}`,
    `last good handshake ${defender.lastGoodHandshake ?? 'none'}`,
  ]
  if (defender.sessionLifetime !== undefined) facts.push(`sessions lasted ${statsText(defender.sessionLifetime)}`)
  if (defender.reconnectGap !== undefined) facts.push(`reconnected after ${statsText(defender.reconnectGap)}`)
  if (defender.endings.length > 0) facts.push(`ended: ${defender.endings.map((e) => `${e.count} ${endingText(e.by, e.reason)}`).join(', ')}`)
  if (defender.failedChecks.length > 0) facts.push(`failed: ${defender.failedChecks.map((f) => `${f.id} x${f.count}`).join(', ')}`)
  lines.push(indented(clean(facts.join('; '), style.ascii), width))
  for (const check of defender.checks) {
    lines.push(indented(clean(`${check.id} ${check.status.toUpperCase()} (${check.confidence}): ${check.summary}`, style.ascii), width))
    if (check.hint !== undefined && (check.status === 'fail' || check.status === 'warn')) lines.push(indented(clean(`${style.hintMark} hint: ${check.hint}`, style.ascii), width))
  }
  return lines
}

/** Wrapped to `width` with every line indented under the Defender's title. */
function indented(text: string, width: number): string {
  const pad = '    '
  return wrap(text, Math.max(MIN_SUMMARY_WIDTH, width - pad.length)).split('\n').map((line) => pad + line).join('\n')
}

function statsText(stats: DurationStats): string {
  const median = stats.medianOf === undefined ? '' : ` (median of the last ${stats.medianOf})`
  return stats.count === 1 ? `${stats.min} s` : `${stats.min}/${stats.median}/${stats.max} s min/median/max over ${stats.count}${median}`
}

function endingText(by: string, reason: string): string {
  if (reason === 'capture-end') return 'open at the end of the capture'
  const what = reason === 'rst' ? 'RST' : reason === 'fin' ? 'FIN' : reason === 'ws-close' ? 'WebSocket close' : reason
  return `${what} from the ${by}`
}
