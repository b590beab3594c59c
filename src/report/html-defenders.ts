/**
 * The sessions chart of the per-Defender view (issue 18) for the HTML report: one row per
 * Defender, one bar per session (DefenderSession startedAt → endedAt) on a shared time axis,
 * coloured by how the session ended (who ended it and how: SessionEndedBy × SessionEndReason),
 * with a legend of the endings present. What it is for: a fleet's flapping reads as a column of
 * red stripes at a regular lifetime (an idle timeout on the path), a storm as a comb of short
 * ticks, a Defender that stopped as a row that ends early.
 *
 * Readable at 1,000 Defenders: rows are 14 px (1,000 rows = a 14,000-px SVG, which browsers draw
 * without trouble), worst verdict first, in a box that scrolls with the time axis kept in view
 * (a sticky SVG of its own above the rows), a stripe on every other row, each row's label cut to
 * its column with the whole key in its tooltip, and a tooltip on every bar (<title>: no script
 * is needed, or allowed by the page's Content-Security-Policy). A bar is at least 2 px wide so a
 * refused attempt of 5 ms still shows; a session that never got established is drawn half as
 * tall; sessions that overlap in time share the row in sub-rows (sessionLanes). Every string
 * from the capture goes through escapeXml.
 */
import type {ConnectionVerdict} from '../model/checks.js'
import type {DefenderReport, DefenderSession, DefenderView} from '../model/defenders.js'
import {escapeXml as esc} from './html-ladder.js'

const WIDTH = 960
const LABEL_X = 18
/** Characters of 11 px monospace text that fit in the label column (a character ≈ 6.7 px). */
const LABEL_CHARS = 34
const PLOT_X = 262
const PLOT_W = WIDTH - PLOT_X - 12
export const DEFENDER_ROW_HEIGHT = 14
const BAR_H = 10
const AXIS_H = 28
/** Bars narrower than this would vanish at 1,000 rows; a refused attempt lasts milliseconds. */
const MIN_BAR_W = 2

/** How a session ended, as the chart colours it. Ordered as the legend lists them. */
export const SESSION_ENDINGS = [
  {class: 'open', label: 'still open at the end'},
  {class: 'client-close', label: 'closed by the Defender (FIN or WebSocket close)'},
  {class: 'server-close', label: 'closed by the Console (FIN or WebSocket close)'},
  {class: 'path-cut', label: 'cut by the path (RST or FIN from between the two ends)'},
  {class: 'server-rst', label: 'reset by the Console (RST)'},
  {class: 'client-rst', label: 'reset by the Defender (RST)'},
  {class: 'tls-alert', label: 'fatal TLS alert'},
  {class: 'refused', label: 'refused (the handshake never completed)'},
  {class: 'ping-timeout', label: 'ping went unanswered'},
  {class: 'other', label: 'error or unknown'},
] as const

export type SessionEndingClass = (typeof SESSION_ENDINGS)[number]['class']

export const DEFENDERS_STYLE = `
section.defenders .chart{max-height:75vh;overflow:auto;border:1px solid #dde1e8;background:#fff;margin:8px 0}
section.defenders.full .chart{max-height:none;overflow:visible}
section.defenders svg{display:block;font:11px ui-monospace,Menlo,Consolas,monospace}
section.defenders svg.axis{position:sticky;top:0;z-index:1;background:#fafbfc;border-bottom:1px solid #dde1e8}
svg .tick{stroke:#b8bec9}svg .tick-label{fill:#4a5263}svg .grid{stroke:#eceef2}
svg .stripe{fill:#f4f6f9}svg .row-label{fill:#1d2330}svg .earlier{stroke:#b8bec9;stroke-dasharray:2 3}
svg .v-pass{fill:#23863a}svg .v-fail{fill:#c62828}svg .v-warn{fill:#b26a00}svg .v-skip{fill:#8a8f99}svg .v-inconclusive{fill:#6a4fb3}
ul.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:12px}
ul.legend li{display:flex;align-items:center;gap:6px}ul.legend .swatch{display:inline-block;width:22px;height:10px;border-radius:2px}
ul.legend .swatch.short{height:5px}
.e-open{fill:#2e9e5b;background:#2e9e5b}.e-client-close{fill:#3b73b9;background:#3b73b9}.e-server-close{fill:#7b4fb3;background:#7b4fb3}
.e-path-cut{fill:#d32f2f;background:#d32f2f}.e-server-rst{fill:#ef8a00;background:#ef8a00}.e-client-rst{fill:#b8860b;background:#b8860b}
.e-tls-alert{fill:#c2185b;background:#c2185b}.e-refused{fill:#5d1a1a;background:#5d1a1a}.e-ping-timeout{fill:#8d6e63;background:#8d6e63}
.e-other{fill:#8a8f99;background:#8a8f99}
`

/** The chart's colour for how a session ended. */
export function sessionEndingClass(session: DefenderSession): SessionEndingClass {
  const {reason, by} = session.end
  if (by === 'open' || reason === 'capture-end') return 'open'
  if (reason === 'refused') return 'refused'
  if (reason === 'tls-alert') return 'tls-alert'
  if (reason === 'ping-timeout') return 'ping-timeout'
  if (by === 'path' && (reason === 'rst' || reason === 'fin' || reason === 'ws-close')) return 'path-cut'
  if (reason === 'rst') return by === 'server' ? 'server-rst' : by === 'client' ? 'client-rst' : 'other'
  if (reason === 'fin' || reason === 'ws-close') return by === 'server' ? 'server-close' : by === 'client' ? 'client-close' : 'other'
  return 'other'
}

/** Sub-rows in a Defender's row: at most this many (more overlapping sessions share the last). */
const MAX_LANES = 3

/**
 * The sub-row of each session: sessions that overlap in time (two Defenders behind one address,
 * a Defender holding two channels) get their own, so neither hides the other; the row keeps its
 * height and its bars get thinner. Greedy interval partitioning in start order.
 */
export function sessionLanes(sessions: DefenderSession[]): number[] {
  const laneEnds: number[] = []
  const order = sessions.map((session, index) => ({start: Date.parse(session.startedAt), end: Date.parse(session.endedAt), index})).sort((a, b) => a.start - b.start || a.index - b.index)
  const lanes: number[] = new Array(sessions.length).fill(0)
  for (const {start, end, index} of order) {
    let lane = laneEnds.findIndex((laneEnd) => laneEnd <= start)
    if (lane < 0) lane = laneEnds.length < MAX_LANES ? laneEnds.length : MAX_LANES - 1
    laneEnds[lane] = Math.max(laneEnds[lane] ?? -Infinity, end)
    lanes[index] = lane
  }
  return lanes
}

const VERDICT_ORDER: Record<ConnectionVerdict, number> = {fail: 0, inconclusive: 1, warn: 2, pass: 3, skip: 4}

/** The Defenders in chart order: worst verdict first, the view's order within a verdict. */
export function chartOrder(defenders: DefenderReport[]): DefenderReport[] {
  return defenders
    .map((defender, index) => ({defender, index}))
    .sort((a, b) => VERDICT_ORDER[a.defender.verdict] - VERDICT_ORDER[b.defender.verdict] || a.index - b.index)
    .map(({defender}) => defender)
}

/** Height in px of the section's SVGs (axis and rows), for a screenshot of the whole chart. */
export function defendersChartHeight(view: DefenderView): number {
  return AXIS_H + view.defenders.length * DEFENDER_ROW_HEIGHT
}

/** A tick step (seconds) that gives 5-10 ticks over `span` seconds. */
function tickStep(span: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
  return steps.find((step) => span / step <= 10) ?? Math.ceil(span / 10 / 86400) * 86400
}

function tickLabel(ms: number, span: number): string {
  const text = new Date(ms).toISOString()
  return span > 86400 ? `${text.slice(5, 10)} ${text.slice(11, 16)}` : text.slice(11, 19)
}

function durationText(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 120) return `${Number(seconds.toFixed(1))} s`
  if (seconds < 7200) return `${Number((seconds / 60).toFixed(1))} min`
  return `${Number((seconds / 3600).toFixed(1))} h`
}

/** Who ended it and how, in words, for a bar's tooltip. */
function endingText(session: DefenderSession): string {
  const {reason, by, wsCloseCode, frame} = session.end
  const who = by === 'client' ? 'the Defender' : by === 'server' ? 'the Console' : by === 'path' ? 'the path' : by === 'open' ? '' : 'unknown side'
  const how: Record<string, string> = {
    fin: 'FIN',
    rst: 'RST',
    'ws-close': `WebSocket close${wsCloseCode !== undefined ? ` ${wsCloseCode}` : ''}`,
    'tls-alert': 'fatal TLS alert',
    'ping-timeout': 'ping timeout',
    'capture-end': 'still open at the end',
    refused: 'refused',
    error: 'error',
    unknown: 'unknown end',
  }
  const text = by === 'open' || reason === 'capture-end' ? 'still open at the end' : `${how[reason]} from ${who}`
  return `${text}${session.end.confidence === 'inferred' ? ' (inferred)' : ''}${frame !== undefined ? `, frame ${frame}` : ''}`
}

/**
 * The chart's section. `span` is the capture's time range (source.firstTs/lastTs) when known;
 * otherwise the Defenders' first and last seen. `full`: no scrolling box (a screenshot of every
 * row).
 */
export function renderDefendersSection(view: DefenderView, span: {firstTs?: string; lastTs?: string} = {}, full = false): string {
  const defenders = chartOrder(view.defenders)
  if (defenders.length === 0) {
    return `<section class="defenders" id="defenders">\n<h2>Defenders: sessions over time</h2>\n<p class="meta">no Defender tracked${view.overflow > 0 ? ` (${view.overflow} beyond the limit of ${view.limit})` : ''}</p>\n</section>`
  }
  const firstSeen = Math.min(...defenders.map((d) => Date.parse(d.firstSeen)))
  const lastSeen = Math.max(...defenders.map((d) => Date.parse(d.lastSeen)))
  const start = Math.min(span.firstTs !== undefined ? Date.parse(span.firstTs) : Infinity, firstSeen)
  const end = Math.max(span.lastTs !== undefined ? Date.parse(span.lastTs) : -Infinity, lastSeen, start + 1000)
  const spanSeconds = (end - start) / 1000
  const x = (ms: number) => PLOT_X + ((ms - start) / (end - start)) * PLOT_W
  const counts = new Map<SessionEndingClass, number>()
  const verdicts = new Map<ConnectionVerdict, number>()
  let sessionsShown = 0
  let sessionsNotKept = 0

  const rows: string[] = []
  defenders.forEach((defender, i) => {
    verdicts.set(defender.verdict, (verdicts.get(defender.verdict) ?? 0) + 1)
    const top = i * DEFENDER_ROW_HEIGHT
    const parts: string[] = []
    const key = defender.identity.key
    const label = key.length > LABEL_CHARS ? `${key.slice(0, LABEL_CHARS - 1)}…` : key
    const stability = defender.checks.find((c) => c.id === 'channel.stability')
    const tooltip = [
      `${key}: ${defender.verdict.toUpperCase()}, ${defender.connections} connection${defender.connections === 1 ? '' : 's'}, ${defender.reconnects} reconnect${defender.reconnects === 1 ? '' : 's'}`,
      ...(defender.sessionLifetime ? [`session lifetime min/median/max ${durationText(defender.sessionLifetime.min)} / ${durationText(defender.sessionLifetime.median)} / ${durationText(defender.sessionLifetime.max)}`] : []),
      ...(stability ? [`channel.stability ${stability.status.toUpperCase()}: ${stability.summary}`] : []),
    ].join('\n')
    parts.push(`<title>${esc(tooltip)}</title>`)
    parts.push(`<rect class="verdict v-${defender.verdict}" x="4" y="${top + 3}" width="8" height="8" rx="1"/>`)
    parts.push(`<text class="row-label" x="${LABEL_X}" y="${top + 11}">${esc(label)}</text>`)
    const notKept = defender.truncated?.sessions ?? 0
    sessionsNotKept += notKept
    if (notKept > 0 && defender.sessions.length > 0) {
      // The sessions list keeps the most recent ones: a dashed line stands for the earlier ones.
      const from = x(Date.parse(defender.firstSeen))
      const to = x(Date.parse(defender.sessions[0].startedAt))
      parts.push(`<line class="earlier" x1="${from.toFixed(1)}" x2="${Math.max(from, to).toFixed(1)}" y1="${top + 7}" y2="${top + 7}"><title>${esc(`${notKept} earlier session${notKept === 1 ? '' : 's'} not kept`)}</title></line>`)
    }
    const lanes = sessionLanes(defender.sessions)
    const laneCount = Math.max(0, ...lanes) + 1
    // Sub-rows take 12 of the row's 14 px with a 1-px gap between them, so two bars read as two.
    const laneArea = laneCount === 1 ? BAR_H : DEFENDER_ROW_HEIGHT - 2
    const laneHeight = (laneArea - (laneCount - 1)) / laneCount
    defender.sessions.forEach((session, k) => {
      const ending = sessionEndingClass(session)
      counts.set(ending, (counts.get(ending) ?? 0) + 1)
      sessionsShown++
      const width = Math.max(MIN_BAR_W, x(Date.parse(session.endedAt)) - x(Date.parse(session.startedAt)))
      // A widened bar at the very end stays inside the plot.
      const x1 = Math.min(x(Date.parse(session.startedAt)), PLOT_X + PLOT_W - width)
      const height = session.established ? laneHeight : Math.max(MIN_BAR_W, laneHeight / 2)
      const y = top + (DEFENDER_ROW_HEIGHT - laneArea) / 2 + lanes[k] * (laneHeight + 1) + (laneHeight - height) / 2
      const text =
        `#${session.connection} ${session.startedAt.slice(11, 23)} → ${session.endedAt.slice(11, 23)} (${durationText(session.durationSeconds)}), ` +
        `${session.established ? 'established' : 'not established'}, ${endingText(session)}` +
        (session.idleBeforeEndSeconds !== undefined ? `, idle ${durationText(session.idleBeforeEndSeconds)} before` : '') +
        (session.failedChecks.length > 0 ? `; failed: ${session.failedChecks.join(', ')}` : '')
      parts.push(
        `<rect class="session e-${ending}${session.established ? '' : ' short'}" data-connection="${session.connection}" x="${x1.toFixed(1)}" y="${+y.toFixed(2)}" width="${width.toFixed(1)}" height="${+height.toFixed(2)}"><title>${esc(text)}</title></rect>`,
      )
    })
    rows.push(`<g class="defender v-${defender.verdict}" data-key="${esc(key)}">${parts.join('')}</g>`)
  })

  const height = defenders.length * DEFENDER_ROW_HEIGHT
  const step = tickStep(spanSeconds) * 1000
  const ticks: string[] = []
  const grid: string[] = []
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    const tx = x(t).toFixed(1)
    // A label at the right edge ends at its tick instead of being cut.
    const anchor = x(t) > WIDTH - 32 ? 'end' : 'middle'
    ticks.push(`<line class="tick" x1="${tx}" x2="${tx}" y1="${AXIS_H - 6}" y2="${AXIS_H}"/><text class="tick-label" x="${tx}" y="${AXIS_H - 10}" text-anchor="${anchor}">${tickLabel(t, spanSeconds)}</text>`)
    grid.push(`<line class="grid" x1="${tx}" x2="${tx}" y1="0" y2="${height}"/>`)
  }
  const axis =
    `<svg class="axis" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${AXIS_H}" viewBox="0 0 ${WIDTH} ${AXIS_H}" role="img" aria-label="time axis (UTC)">` +
    `<text class="tick-label" x="${LABEL_X}" y="${AXIS_H - 10}">Defender (worst first)</text>${ticks.join('')}</svg>`
  const body =
    `<svg class="defenders-chart" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="sessions per Defender">` +
    `<defs><pattern id="defender-stripes" width="${WIDTH}" height="${2 * DEFENDER_ROW_HEIGHT}" patternUnits="userSpaceOnUse"><rect class="stripe" x="0" y="${DEFENDER_ROW_HEIGHT}" width="${WIDTH}" height="${DEFENDER_ROW_HEIGHT}"/></pattern></defs>` +
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="url(#defender-stripes)"/>` +
    `${grid.join('')}${rows.join('\n')}</svg>`

  const legend = SESSION_ENDINGS.filter((e) => counts.has(e.class)).map(
    (e) => `<li data-ending="${e.class}"><span class="swatch e-${e.class}"></span>${esc(e.label)}: ${counts.get(e.class)}</li>`,
  )
  if (defenders.some((d) => d.sessions.some((session) => !session.established))) legend.push(`<li><span class="swatch short e-other"></span>half height: never established</li>`)
  const verdictText = (['fail', 'inconclusive', 'warn', 'pass', 'skip'] as const)
    .filter((v) => verdicts.has(v))
    .map((v) => `${verdicts.get(v)} ${v}`)
    .join(', ')
  const out: string[] = [`<section class="defenders${full ? ' full' : ''}" id="defenders">`]
  out.push(`<h2>Defenders: sessions over time</h2>`)
  out.push(
    `<p class="meta">${defenders.length} Defender${defenders.length === 1 ? '' : 's'} (${verdictText}); ${sessionsShown} session${sessionsShown === 1 ? '' : 's'} shown` +
      `${sessionsNotKept > 0 ? `, ${sessionsNotKept} earlier not kept (dashed)` : ''}; ` +
      `${esc(new Date(start).toISOString().slice(0, 19))}Z → ${esc(new Date(end).toISOString().slice(0, 19))}Z (${durationText(spanSeconds)}), times in UTC</p>`,
  )
  if (view.overflow > 0) {
    out.push(`<p class="meta issues">${view.overflow} more Defender${view.overflow === 1 ? '' : 's'} beyond the limit of ${view.limit} were counted but not tracked; their connections are below</p>`)
  }
  out.push(`<ul class="legend">${legend.join('')}</ul>`)
  out.push(`<div class="chart">${axis}${body}</div>`)
  out.push('</section>')
  return out.join('\n')
}
