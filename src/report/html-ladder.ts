/**
 * The SVG ladder of one connection for the HTML report: the same events as the terminal ladder
 * (buildTimeline), client lane left, Console (or proxy) lane right, one arrow per event, the failing step
 * in red with its hint under it. Inline SVG, no external references: the page must render from
 * a support ticket attachment with no network. Every string from the capture goes through
 * escapeXml.
 */
import type {ConnectionReport} from '../model/report.js'
import {formatEndpoint} from '../model/format.js'
import {eventLabel, formatEventTime, serverLaneName, wrapWords, type TimelineEvent} from './timeline.js'

const WIDTH = 960
const CLIENT_X = 120
const SERVER_X = 860
const TIME_X = 70
const MARK_X = 92
const FRAME_X = 950
const TOP = 74
const LINE = 16
/** Characters of 12 px monospace text that fit between the lanes (a character ≈ 7.3 px). */
const TEXT_CHARS = Math.floor((SERVER_X - CLIENT_X - 40) / 7.3)
const HINT_CHARS = TEXT_CHARS - 4

export function renderLadderSvg(conn: ConnectionReport, events: TimelineEvent[]): string {
  const id = `c${conn.id}`
  const rows: string[] = []
  let y = TOP
  for (const event of events) {
    const status = event.marks.some((m) => m.status === 'fail') ? 'fail' : event.marks.length > 0 ? 'warn' : undefined
    const label = eventLabel(event, false)
    const text = event.detail !== undefined ? `${label} — ${event.detail}` : label
    const textLines = wrapWords(text, TEXT_CHARS)
    const classes = ['event', `kind-${event.kind}`, `from-${event.from}`, ...(status ? [status] : [])].join(' ')
    const frames = event.lastFrame !== undefined && event.lastFrame !== event.frame ? `${event.frame}-${event.lastFrame}` : String(event.frame)
    const parts: string[] = []
    parts.push(`<title>${escapeXml(`frame ${frames}, ${formatEventTime(event)} ms: ${text}`)}</title>`)
    textLines.forEach((line, i) => {
      parts.push(`<text class="label" x="${(CLIENT_X + SERVER_X) / 2}" y="${y + i * LINE}" text-anchor="middle">${escapeXml(line)}</text>`)
    })
    const arrowY = y + (textLines.length - 1) * LINE + 10
    parts.push(`<text class="time" x="${TIME_X}" y="${arrowY + 4}" text-anchor="end">${formatEventTime(event)}</text>`)
    parts.push(`<text class="frame" x="${FRAME_X}" y="${arrowY + 4}" text-anchor="end">${escapeXml(frames)}</text>`)
    if (status) parts.push(`<text class="mark" x="${MARK_X}" y="${arrowY + 5}" text-anchor="middle">${status === 'fail' ? '✗' : '!'}</text>`)
    if (event.from === 'both') {
      parts.push(`<line class="arrow folded" x1="${CLIENT_X + 8}" y1="${arrowY}" x2="${SERVER_X - 8}" y2="${arrowY}"/>`)
    } else {
      const [x1, x2] = event.from === 'client' ? [CLIENT_X, SERVER_X - 2] : [SERVER_X, CLIENT_X + 2]
      parts.push(`<line class="arrow" x1="${x1}" y1="${arrowY}" x2="${x2}" y2="${arrowY}" marker-end="url(#${id}-head${status ? `-${status}` : ''})"/>`)
    }
    y = arrowY + 6
    for (const mark of event.marks) {
      const hint = wrapWords(`${mark.status.toUpperCase()} ${mark.checkId}: ${mark.hint ?? mark.summary}`, HINT_CHARS)
      hint.forEach((line, i) => {
        y += LINE
        parts.push(`<text class="hint hint-${mark.status}" x="${CLIENT_X + 16}" y="${y}"${i === 0 ? ` data-check="${escapeXml(mark.checkId)}"` : ''}>${escapeXml(line)}</text>`)
      })
    }
    if (event.marks.length > 0) y += 6
    rows.push(`<g class="${classes}" data-kind="${event.kind}" data-frame="${event.frame}" data-from="${event.from}">${parts.join('')}</g>`)
    y += LINE + 6
  }
  const height = y + 10
  const head = (suffix: string) =>
    `<marker id="${id}-head${suffix}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head${suffix}"/></marker>`
  return [
    `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeXml(`Ladder diagram of connection #${conn.id}`)}">`,
    `<defs>${head('')}${head('-fail')}${head('-warn')}</defs>`,
    `<text class="lane-name" x="${CLIENT_X}" y="18" text-anchor="middle">client</text>`,
    `<text class="lane-addr" x="${CLIENT_X}" y="34" text-anchor="middle">${escapeXml(formatEndpoint(conn.client))}</text>`,
    `<text class="lane-name" x="${SERVER_X}" y="18" text-anchor="middle">${escapeXml(serverLaneName(conn))}</text>`,
    `<text class="lane-addr" x="${SERVER_X}" y="34" text-anchor="middle">${escapeXml(formatEndpoint(conn.server))}</text>`,
    `<text class="colhead" x="${TIME_X}" y="52" text-anchor="end">ms</text>`,
    `<text class="colhead" x="${FRAME_X}" y="52" text-anchor="end">frame</text>`,
    `<line class="lane" x1="${CLIENT_X}" y1="40" x2="${CLIENT_X}" y2="${height - 4}"/>`,
    `<line class="lane" x1="${SERVER_X}" y1="40" x2="${SERVER_X}" y2="${height - 4}"/>`,
    ...rows,
    '</svg>',
  ].join('\n')
}

/**
 * Text for HTML and SVG: the five markup characters as entities, and control characters (never
 * valid in a document, and a way to hide text) as \xNN.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}
