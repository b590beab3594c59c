/**
 * The report as one self-contained HTML file to attach to a support ticket: the summary, the
 * per-Defender sessions chart when the report has the view (html-defenders.ts), a table of
 * checks per connection and an SVG ladder per connection (html-ladder.ts). No scripts, no
 * fetches: CSS and SVG are inline and a Content-Security-Policy forbids everything else, so the
 * page renders the same offline, in a mail client's viewer or a ticket system's preview.
 * Everything read from the capture (SNI, certificate names, alert names, hints quoting them) is
 * escaped.
 */
import {isCaptureFacts, type AnalysisReport, type ConnectionReport} from '../model/report.js'
import type {ConnectionVerdict} from '../model/checks.js'
import {formatEndpoint} from '../model/format.js'
import {DEFENDERS_STYLE, defendersChartHeight, renderDefendersSection} from './html-defenders.js'
import {escapeXml as esc, renderLadderSvg} from './html-ladder.js'
import {describeHairpin, describeNoTraffic, describePolicy, describeTls, formatDuration, isoSpanSeconds} from './text.js'
import {buildTimeline, type TimelineOptions} from './timeline.js'

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:24px auto;max-width:1000px;padding:0 16px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:32px 0 6px}
.meta{color:#4a5263;margin:2px 0}.verdict{font-size:18px;font-weight:600;margin:12px 0}
.status{display:inline-block;min-width:44px;text-align:center;border-radius:3px;padding:0 6px;font-weight:600;font-size:12px;color:#fff}
.status.pass{background:#23863a}.status.fail{background:#c62828}.status.warn{background:#b26a00}.status.skip{background:#8a8f99}.status.inconclusive{background:#6a4fb3}
.inconclusive,p.hint-inconclusive{color:#4b2e91;margin:2px 0}
table.checks{border-collapse:collapse;width:100%;margin:8px 0 12px}
table.checks th,table.checks td{border-bottom:1px solid #dde1e8;padding:4px 8px;text-align:left;vertical-align:top}
table.checks th{font-size:12px;color:#4a5263;font-weight:600}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
tr.hint td{border-bottom:1px solid #dde1e8;color:#8a1c1c;padding-top:0}tr.hint-warn td{color:#7a4a00}
tr.skip td.summary{color:#6b7280}
.issues{color:#7a4a00}
figure{margin:8px 0 0;overflow-x:auto}
svg.ladder{max-width:100%;height:auto;font:12px ui-monospace,Menlo,Consolas,monospace;background:#fafbfc;border:1px solid #dde1e8}
svg.ladder .lane{stroke:#6b7280;stroke-width:2}
svg.ladder .lane-name{font-weight:700;font-size:13px}svg.ladder .lane-addr,svg.ladder .colhead,svg.ladder .time,svg.ladder .frame{fill:#6b7280}
svg.ladder .arrow{stroke:#2f3a4f;stroke-width:1.5}svg.ladder .head{fill:#2f3a4f}
svg.ladder .folded{stroke-dasharray:4 4}
svg.ladder .fail .arrow{stroke:#c62828;stroke-width:2.5}svg.ladder .head-fail{fill:#c62828}
svg.ladder .warn .arrow{stroke:#b26a00;stroke-width:2}svg.ladder .head-warn{fill:#b26a00}
svg.ladder .fail .label,svg.ladder .mark{fill:#c62828;font-weight:700}svg.ladder .warn .label{fill:#b26a00;font-weight:700}
svg.ladder .hint-fail{fill:#8a1c1c}svg.ladder .hint-warn{fill:#7a4a00}
`

export function renderHtml(report: AnalysisReport, options: TimelineOptions = {}): string {
  const {source, summary} = report
  const title = `${report.tool.name}: ${source.name} — ${summary.verdict.toUpperCase()}`
  const body: string[] = []
  body.push(`<h1>${esc(report.tool.name)} ${esc(report.tool.version)} report</h1>`)
  const format = source.capture ? `${source.capture.format}${source.capture.gzip ? ', gzip' : ''}` : source.kind
  body.push(`<p class="meta">source: ${esc(source.name)} (${esc(format)}), ${source.frames} frame${source.frames === 1 ? '' : 's'}</p>`)
  if (source.firstTs !== undefined && source.lastTs !== undefined) {
    body.push(`<p class="meta">time: ${esc(source.firstTs)} → ${esc(source.lastTs)} (${esc(formatDuration(isoSpanSeconds(source.firstTs, source.lastTs)))})</p>`)
  }
  body.push(`<p class="meta">policy: ${esc(describePolicy(report.policy))}</p>`)
  for (const issue of source.issues) body.push(`<p class="meta issues">capture ${esc(issue.severity)}: ${esc(issue.message)} [${esc(issue.code)}]</p>`)
  body.push(
    `<p class="verdict" id="verdict">Verdict: ${statusBadge(summary.verdict)} ${summary.connections} connection${summary.connections === 1 ? '' : 's'}: ` +
      `${summary.pass} pass, ${summary.fail} fail, ${summary.warn} warn, ${summary.skip} skip${summary.reason !== undefined ? ` (${esc(summary.reason)})` : ''}</p>`,
  )
  if (summary.hint !== undefined) body.push(`<p class="hint hint-inconclusive">hint: ${esc(summary.hint)}</p>`)
  if (report.summary.connections === 0) {
    const text = describeNoTraffic(report)
    body.push(`<p><strong>${esc(text.headline)}</strong></p><p>${esc(text.seenInstead)}</p><p>${esc(text.advice)}</p>`)
  }
  if (report.defenders !== undefined) body.push(renderDefendersSection(report.defenders, source))
  for (const conn of report.connections) body.push(connectionSection(conn, options))
  return page(title, report.defenders !== undefined ? STYLE + DEFENDERS_STYLE : STYLE, body)
}

/**
 * A page with the per-Defender chart alone, every row shown (no scrolling box), and the size a
 * screenshot of it needs (scripts/screenshot-defenders.ts: the chart for docs/ or a ticket).
 */
export function renderDefendersPage(report: AnalysisReport): {html: string; width: number; height: number} {
  if (report.defenders === undefined) throw new Error('the report has no per-Defender view (defenders)')
  const title = `${report.tool.name}: ${report.source.name} — Defenders`
  const body = [
    `<h1>${esc(report.tool.name)} ${esc(report.tool.version)}: ${esc(report.source.name)}</h1>`,
    renderDefendersSection(report.defenders, report.source, true),
  ]
  // h1, the meta line, a legend of up to three lines and the margins, then the axis and rows.
  return {html: page(title, STYLE + DEFENDERS_STYLE, body), width: 1032, height: 260 + defendersChartHeight(report.defenders)}
}

function page(title: string, style: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

function connectionSection(conn: ConnectionReport, options: TimelineOptions): string {
  const {facts} = conn
  const {tcp} = facts
  const frames = isCaptureFacts(facts) ? `, frames ${facts.tcp.firstFrame}–${facts.tcp.lastFrame}` : ', probe connection'
  const out: string[] = [`<section class="connection" id="connection-${conn.id}">`]
  out.push(
    `<h2>#${conn.id} ${esc(formatEndpoint(conn.client))} → ${esc(formatEndpoint(conn.server))} ${statusBadge(conn.verdict)}</h2>`,
    `<p class="meta">${esc(conn.startedAt)}, ${esc(formatDuration(tcp.endTs - tcp.startTs))}${frames}</p>`,
  )
  const tls = describeTls(conn)
  if (tls.length > 0) out.push(`<p class="meta">${esc(tls.join(' | '))}</p>`)
  if (isCaptureFacts(facts) && facts.hairpin !== undefined) out.push(`<p class="meta hairpin">${esc(describeHairpin(facts.hairpin, '→'))}</p>`)
  out.push('<table class="checks"><thead><tr><th>check</th><th>status</th><th>confidence</th><th>summary</th><th>frames</th></tr></thead><tbody>')
  for (const check of conn.checks) {
    out.push(
      `<tr class="${check.status}" data-check="${esc(check.id)}"><td class="id">${esc(check.id)}</td><td>${statusBadge(check.status)}</td>` +
        `<td>${esc(check.confidence)}</td><td class="summary">${esc(check.summary)}</td><td>${esc(check.evidence.frames.join(', '))}</td></tr>`,
    )
    if (check.hint !== undefined && (check.status === 'fail' || check.status === 'warn')) {
      out.push(`<tr class="hint hint-${check.status}"><td></td><td colspan="4">hint: ${esc(check.hint)}</td></tr>`)
    }
  }
  out.push('</tbody></table>')
  if (conn.inconclusive !== undefined) {
    out.push(`<p class="inconclusive">inconclusive: ${esc(conn.inconclusive.reason)}</p><p class="hint hint-inconclusive">hint: ${esc(conn.inconclusive.hint)}</p>`)
  }
  for (const issue of conn.facts.issues) {
    out.push(`<p class="meta issues">${esc(issue.severity)}: ${esc(issue.message)} [${esc(issue.code)}${issue.frame !== undefined ? `, frame ${issue.frame}` : ''}]</p>`)
  }
  // A probe without a capture has no packets to draw.
  if (isCaptureFacts(facts)) out.push(`<figure>${renderLadderSvg(conn, buildTimeline(conn, options))}</figure>`)
  out.push('</section>')
  return out.join('\n')
}

/** Version, cipher, SNI and the server certificate's subject: what a support engineer looks for first. */
function statusBadge(status: ConnectionVerdict): string {
  return `<span class="status ${status}">${status.toUpperCase()}</span>`
}

