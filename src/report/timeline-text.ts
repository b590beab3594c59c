/**
 * The terminal ladder of one connection: client on the left, Console on the right, one arrow per
 * timeline event with its time (ms since the first packet) and frame, the failing step in red
 * with its hint under it. Pure: the caller decides colour, width and ASCII.
 *
 *        ms     client                                          Console  frame
 *     0.000     |-- SYN ------------------------------------------->|        1
 *     0.012  X  |<--------------------------------------- RST refused|        2
 *               |  FAIL tcp.syn-ack: nothing listens on ...          |
 */
import {maxOf} from '../lists.js'
import {Chalk} from 'chalk'
import type {ConnectionReport} from '../model/report.js'
import {formatEndpoint} from '../model/format.js'
import {buildTimeline, eventLabel, formatEventTime, serverLaneName, wrapWords, type TimelineEvent, type TimelineMark, type TimelineOptions} from './timeline.js'

export interface TimelineTextOptions extends TimelineOptions {
  /** ANSI colours when true; none at all when false. */
  color: boolean
  /** Columns to fit; every line stays within it (down to MIN_WIDTH). */
  width: number
  /** Plain ASCII lines and arrows for terminals without Unicode; defaults to !color. */
  ascii?: boolean
  /** The "#id client -> server  VERDICT" line (default true; the table, which has it already, turns it off). */
  title?: boolean
}

/** Narrower than this and the ladder has no room for its labels. */
const MIN_WIDTH = 60

interface Glyphs {
  lane: string
  line: string
  right: string
  left: string
  fold: string
  fail: string
  warn: string
  hint: string
}

const UNICODE: Glyphs = {lane: '│', line: '─', right: '▶', left: '◀', fold: ' ', fail: '✗', warn: '!', hint: '↳'}
const ASCII: Glyphs = {lane: '|', line: '-', right: '>', left: '<', fold: ' ', fail: 'X', warn: '!', hint: '->'}

/** Our own Unicode in labels, spelled in ASCII. */
const ASCII_SPELLING: Array<[RegExp, string]> = [
  [/…/g, '...'],
  [/→/g, '->'],
  [/←/g, '<-'],
  [/✓/g, 'ok'],
  [/✗/g, 'FAILED'],
  [/↔/g, '<->'],
  [/[—–]/g, '-'],
  [/§/g, 'section '],
  [/×/g, 'x'],
]

export function renderTimeline(conn: ConnectionReport, options: TimelineTextOptions): string {
  const events = buildTimeline(conn, options)
  const ascii = options.ascii ?? !options.color
  const glyphs = ascii ? ASCII : UNICODE
  const chalk = new Chalk({level: options.color ? 1 : 0})
  const width = Math.max(MIN_WIDTH, options.width)
  const text = (s: string) => printable(s, ascii)

  const times = events.map((e) => formatEventTime(e))
  const frames = events.map((e) => (e.lastFrame !== undefined && e.lastFrame !== e.frame ? `${e.frame}-${e.lastFrame}` : String(e.frame)))
  const timeWidth = maxOf(times.map((t) => t.length), 2)
  const frameWidth = maxOf(frames.map((f) => f.length), 5)
  // time, space, 2-column mark, lane, inner, lane, space, frame
  const inner = width - timeWidth - 1 - 2 - 2 - 1 - frameWidth
  const lanePrefix = ' '.repeat(timeWidth + 3)
  const laneRow = (content: string, paint: (s: string) => string = (s) => s) =>
    `${lanePrefix}${glyphs.lane}${paint(padRight(content, inner))}${glyphs.lane}`

  const lines: string[] = []
  const title = `#${conn.id} ${formatEndpoint(conn.client)} ${ascii ? '->' : '→'} ${formatEndpoint(conn.server)}`
  const verdict = conn.verdict.toUpperCase()
  const paintVerdict = conn.verdict === 'fail' ? chalk.red.bold : conn.verdict === 'warn' ? chalk.yellow : conn.verdict === 'pass' ? chalk.green : chalk.dim
  // Under the table's block for the same connection the title would only repeat it.
  if (options.title !== false) lines.push(`${chalk.bold(cut(text(title), width - verdict.length - 2))}  ${paintVerdict(verdict)}`)
  const client = `client ${formatEndpoint(conn.client)}`
  const lane = serverLaneName(conn)
  const server = `${lane} ${formatEndpoint(conn.server)}`
  const ends = client.length + server.length + 1 <= inner + 2 ? [client, server] : ['client', lane]
  lines.push(chalk.dim(`${'ms'.padStart(timeWidth)}   ${padRight(ends[0], inner + 2 - ends[1].length)}${ends[1]} ${'frame'.padStart(frameWidth)}`))

  events.forEach((event, i) => {
    const status = worst(event.marks)
    const paint = status === 'fail' ? chalk.red.bold : status === 'warn' ? chalk.yellow : (s: string) => s
    const mark = status === 'fail' ? glyphs.fail : status === 'warn' ? glyphs.warn : ' '
    const [arrow, rest] = drawArrow(event, inner, glyphs, text, ascii)
    lines.push(`${chalk.dim(times[i].padStart(timeWidth))} ${paint(mark)} ${glyphs.lane}${paint(arrow)}${glyphs.lane} ${chalk.dim(frames[i].padStart(frameWidth))}`)
    const indent = event.from === 'server' ? 2 : 3
    for (const line of wrapWords(rest, inner - indent - 1)) lines.push(laneRow(`${' '.repeat(indent)}${line}`, paint))
    for (const m of uniqueHints(event.marks)) {
      // First line after the check id, the rest indented under the hint glyph.
      const head = `${glyphs.hint} ${m.status.toUpperCase()} ${m.checkId}:`
      const indentHint = ' '.repeat(glyphs.hint.length + 2)
      const words = wrapWords(`${head} ${text(m.hint ?? m.summary)}`, inner - 1)
      const body = [words[0], ...wrapWords(words.slice(1).join(' '), inner - 1 - indentHint.length).map((l) => indentHint + l)]
      for (const line of body) lines.push(laneRow(` ${line}`, m.status === 'fail' ? chalk.red : chalk.yellow))
    }
  })
  if (events.length === 0) lines.push(laneRow(' no packets to draw'))
  return lines.join('\n')
}

/**
 * The arrow for one event, exactly `inner` columns, and the part of its text that did not fit
 * (drawn under it). Client → Console: `-- SYN ----->`; Console → client: `<----- SYN-ACK --`.
 */
function drawArrow(event: TimelineEvent, inner: number, g: Glyphs, text: (s: string) => string, ascii: boolean): [string, string] {
  const label = text(eventLabel(event, ascii))
  const detail = event.detail !== undefined ? text(event.detail) : ''
  // Room for the label between the arrow's ends: 2 line + space … space + line(s) + head.
  const room = inner - 6
  let onArrow = detail !== '' && label.length + 2 + detail.length <= room ? `${label}  ${detail}` : label
  let rest = onArrow === label ? detail : ''
  if (onArrow.length > room) {
    rest = `${onArrow.slice(room)}${rest ? ` ${rest}` : ''}`
    onArrow = onArrow.slice(0, room)
  }
  if (event.from === 'both') {
    const side = Math.max(1, Math.floor((inner - onArrow.length - 2) / 2))
    return [padRight(`${g.fold.repeat(side)} ${onArrow} ${g.fold.repeat(side)}`, inner), rest]
  }
  const fill = g.line.repeat(inner - onArrow.length - 5)
  if (event.from === 'client') return [`${g.line}${g.line} ${onArrow} ${fill}${g.right}`, rest]
  return [`${g.left}${fill} ${onArrow} ${g.line}${g.line}`, rest]
}

function worst(marks: TimelineMark[]): 'fail' | 'warn' | undefined {
  if (marks.some((m) => m.status === 'fail')) return 'fail'
  return marks.length > 0 ? 'warn' : undefined
}

/** Two checks with the same hint at one step say it once. */
function uniqueHints(marks: TimelineMark[]): TimelineMark[] {
  const seen = new Set<string>()
  return marks.filter((m) => {
    const key = m.hint ?? m.summary
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * Text from the capture (SNI, certificate names, alert names) may hold control characters a
 * terminal would execute (ESC sequences): shown as \xNN. In ASCII mode our own symbols are
 * spelled out and any other non-ASCII character becomes '?', so the width is exact.
 */
export function printable(s: string, ascii: boolean): string {
  let out = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  if (ascii) {
    for (const [pattern, spelling] of ASCII_SPELLING) out = out.replace(pattern, spelling)
    out = out.replace(/[^\x20-\x7e]/gu, '?')
  }
  return out
}

function padRight(s: string, width: number): string {
  return s.length >= width ? s.slice(0, width) : s + ' '.repeat(width - s.length)
}

function cut(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, width - 3)}...`
}
