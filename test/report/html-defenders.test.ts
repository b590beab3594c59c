/**
 * The HTML report's per-Defender sessions chart (report/html-defenders.ts), rendered for real in
 * headless Chromium on a view of 1,000 Defenders (test/report/sample-defenders.ts: report
 * objects, one of six session patterns each): the page loads with no error and no request, one
 * row per Defender worst first, one bar per session where its times put it, coloured by how it
 * ended, a legend that counts what is drawn, a scrolling box whose time axis stays in view, and
 * the escaped label of an awkward certificate subject. Then scripts/screenshot-defenders.ts on a
 * JSON report.
 */
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderHtml} from '../../src/report/html.js'
import {SESSION_ENDINGS, renderDefendersSection, sessionEndingClass, sessionLanes} from '../../src/report/html-defenders.js'
import {useBrowserPages} from '../helpers/chromium.js'
import {ROOT} from '../helpers/paths.js'
import {AWKWARD_SUMMARY, sampleReport} from './sample-report.js'
import {CAPTURE_SECONDS, defenderReport, sampleReportWithDefenders} from './sample-defenders.js'

const pages = useBrowserPages('dc-html-defenders-')
const {writePage, work} = pages

/** The chart's plot area (html-defenders.ts): x from 262 px over 686 px for the capture's 600 s. */
const PLOT_X = 262
const PLOT_W = 686

describe('the per-Defender sessions chart in headless Chromium', () => {
  const report = sampleReportWithDefenders(1000)
  const view = report.defenders!

  it('draws 1,000 Defenders, one row each, worst first, one bar per session where its times put it', async () => {
    const url = writePage('fleet.html', renderHtml(report))
    const page = await pages.browser.open(url)
    expect(page.errors).toEqual([])
    expect(page.requests).toEqual([url])
    expect(await page.evaluate<number>('document.querySelectorAll("script").length')).toBe(0)

    const rows = await page.evaluate<Array<{key: string; verdict: string; bars: number; y: number}>>(
      '[...document.querySelectorAll("svg.defenders-chart g.defender")].map(g => ({key: g.dataset.key, verdict: g.querySelector("rect.verdict").classList[1], bars: g.querySelectorAll("rect.session").length, y: +g.querySelector("rect.verdict").getAttribute("y")}))',
    )
    expect(rows).toHaveLength(1000)
    // Worst first: the 500 failing Defenders (idle-cut, storm, tls-alert), the 167 warned (stopped), then the passing ones, each in the view's order.
    const rank = {'v-fail': 0, 'v-warn': 1, 'v-pass': 2}
    expect(rows.map((r) => rank[r.verdict as keyof typeof rank])).toEqual([...Array(500).fill(0), ...Array(167).fill(1), ...Array(333).fill(2)])
    const byKey = new Map(view.defenders.map((d) => [d.identity.key, d]))
    for (const row of rows) expect(row.bars).toBe(byKey.get(row.key)!.sessions.length)
    // 14-px rows, in order (the verdict square 3 px below the row's top).
    expect(rows.slice(0, 3).map((r) => r.y)).toEqual([3, 17, 31])
    expect(await page.evaluate<string>('document.querySelector("svg.defenders-chart").getAttribute("height")')).toBe('14000')

    // Bar geometry of the second Defender (idle-cut): 60-s sessions every 63 s from 14 s.
    const bars = await page.evaluate<Array<{x: number; width: number; ending: string; title: string}>>(
      '[...document.querySelector("g.defender[data-key=\\"10.20.0.2\\"]").querySelectorAll("rect.session")].map(r => ({x: +r.getAttribute("x"), width: +r.getAttribute("width"), ending: r.classList[1], title: r.querySelector("title").textContent}))',
    )
    expect(bars).toHaveLength(9)
    bars.forEach((bar, k) => {
      expect(bar.x).toBeCloseTo(PLOT_X + ((14 + 63 * k) / CAPTURE_SECONDS) * PLOT_W, 0)
      expect(bar.width).toBeCloseTo((60 / CAPTURE_SECONDS) * PLOT_W, 0)
      expect(bar.ending).toBe('e-path-cut')
    })
    expect(bars[0].title).toBe('#3 10:00:14.000 → 10:01:14.000 (60 s), established, RST from the path (inferred), idle 58.5 s before')
    // A refused attempt of 200 ms still shows (2 px), half as tall.
    const storm = await page.evaluate<{width: number; height: number}>('(() => { const r = document.querySelector("g.defender[data-key=\\"10.20.0.3\\"] rect.session"); return {width: +r.getAttribute("width"), height: +r.getAttribute("height")} })()')
    expect(storm).toEqual({width: 2, height: 5})
    // Every bar inside the plot area.
    const extent = await page.evaluate<[number, number]>('(() => { const r = [...document.querySelectorAll("rect.session")]; return [Math.min(...r.map(b => +b.getAttribute("x"))), Math.max(...r.map(b => +b.getAttribute("x") + +b.getAttribute("width")))] })()')
    expect(extent[0]).toBeGreaterThanOrEqual(PLOT_X)
    expect(extent[1]).toBeLessThanOrEqual(PLOT_X + PLOT_W + 0.1)
    await page.close()
  }, 120_000)

  it('colours each bar by how its session ended, and the legend counts exactly what is drawn', async () => {
    const page = await pages.browser.open(writePage('fleet-colours.html', renderHtml(report)))
    const expected = new Map<string, number>()
    for (const d of view.defenders) for (const s of d.sessions) expected.set(sessionEndingClass(s), (expected.get(sessionEndingClass(s)) ?? 0) + 1)
    // Every pattern's ending is told apart: open, client close, Console close (FIN, WebSocket 1001, the refused upgrade's FIN), path cut, TLS alert.
    expect([...expected.keys()].sort()).toEqual(['client-close', 'open', 'path-cut', 'server-close', 'tls-alert'])
    const legend = await page.evaluate<Array<[string, string]>>('[...document.querySelectorAll("ul.legend li[data-ending]")].map(li => [li.dataset.ending, li.textContent])')
    expect(legend).toEqual(
      SESSION_ENDINGS.filter((e) => expected.has(e.class)).map((e) => [e.class, `${e.label}: ${expected.get(e.class)}`]),
    )
    // The swatch and the bars of one ending have the same colour, and different endings differ.
    const colours = await page.evaluate<Record<string, [string, string, number]>>(
      'Object.fromEntries([...document.querySelectorAll("ul.legend li[data-ending]")].map(li => { const e = li.dataset.ending; const bars = document.querySelectorAll("rect.session.e-" + e); return [e, [getComputedStyle(li.querySelector(".swatch")).backgroundColor, getComputedStyle(bars[0]).fill, bars.length]] }))',
    )
    for (const [ending, [swatch, fill, count]] of Object.entries(colours)) {
      expect(fill, ending).toBe(swatch)
      expect(count, ending).toBe(expected.get(ending))
    }
    expect(colours['path-cut'][1]).toBe('rgb(211, 47, 47)')
    expect(new Set(Object.values(colours).map(([swatch]) => swatch)).size).toBe(Object.keys(colours).length)
    await page.close()
  }, 120_000)

  it('scrolls the rows in a box with the time axis kept in view, labels cut to their column and escaped', async () => {
    const page = await pages.browser.open(writePage('fleet-scroll.html', renderHtml(report)))
    const box = await page.evaluate<{client: number; scroll: number}>('(() => { const c = document.querySelector("section.defenders .chart"); return {client: c.clientHeight, scroll: c.scrollHeight} })()')
    // 75% of the 900-px window, the 14,028 px of axis and rows inside.
    expect(box.client).toBeLessThanOrEqual(675)
    expect(box.scroll).toBeGreaterThanOrEqual(14_028)
    const axisOffset = await page.evaluate<[number, number]>(
      '(() => { const c = document.querySelector("section.defenders .chart"); c.scrollTop = 9000; const a = document.querySelector("svg.axis").getBoundingClientRect(); return [a.top - c.getBoundingClientRect().top - c.clientTop, document.querySelectorAll("svg.axis text.tick-label").length] })()',
    )
    expect(axisOffset[0]).toBeCloseTo(0, 0)
    // 10:00:00 to 10:10:00 every minute, after the column heading.
    expect(axisOffset[1]).toBe(12)
    expect(await page.evaluate<string[]>('[...document.querySelectorAll("svg.axis text.tick-label")].slice(1, 4).map(t => t.textContent)')).toEqual(['10:00:00', '10:01:00', '10:02:00'])
    // The certificate subject's label: cut to 34 characters, whole (and as text) in the tooltip.
    const key = `10.20.0.1 CN=${AWKWARD_SUMMARY}`
    const label = await page.evaluate<[string, string]>(
      `(() => { const g = [...document.querySelectorAll("g.defender")].find(g => g.dataset.key === ${JSON.stringify(key)}); return [g.querySelector("text.row-label").textContent, g.querySelector(":scope > title").textContent] })()`,
    )
    expect(label[0]).toBe(`${key.slice(0, 33)}…`)
    expect(label[1].split('\n')[0]).toBe(`${key}: PASS, 2 connections, 1 reconnect`)
    // Labels stay left of the plot area (11-px monospace: 34 characters).
    const widest = await page.evaluate<number>('Math.max(...[...document.querySelectorAll("text.row-label")].map(t => t.getBBox().x + t.getBBox().width))')
    expect(widest).toBeLessThan(PLOT_X)
    const shot = join(work, 'chart.png')
    await page.screenshot(shot, 'section#defenders')
    const png = readFileSync(shot)
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(960)
    await page.close()
  }, 120_000)

  it('draws sessions that overlap in time (two channels from one address) in sub-rows, neither hiding the other', () => {
    // console-closes: three sessions one after the other; a fourth overlapping the first two.
    const defender = defenderReport(5, 'console-closes', {offset: 0})
    const [first] = defender.sessions
    defender.sessions.push({...first, connection: 99, startedAt: '2026-01-15T10:00:10.000Z', endedAt: '2026-01-15T10:05:00.000Z', durationSeconds: 290})
    expect(sessionLanes(defender.sessions)).toEqual([0, 0, 0, 1])
    const html = renderDefendersSection({defenders: [defender], overflow: 0, limit: 10_000}, {firstTs: '2026-01-15T10:00:00.000Z', lastTs: '2026-01-15T10:10:00.000Z'})
    const bars = [...html.matchAll(/<rect class="session [^"]*" data-connection="(\d+)" x="[^"]*" y="([^"]*)" width="[^"]*" height="([^"]*)">/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])])
    // Two sub-rows of 5.5 px in the row's 12 px, a 1-px gap between them.
    expect(bars.map(([, y, height]) => [y, height])).toEqual([[1, 5.5], [1, 5.5], [1, 5.5], [7.5, 5.5]])
    // One session alone keeps the full 10-px bar.
    expect(sessionLanes(defender.sessions.slice(0, 3))).toEqual([0, 0, 0])
  })

  it('leaves the page without the view as it was', () => {
    const html = renderHtml(sampleReport())
    expect(html).not.toContain('defenders')
    expect(html).not.toContain('section.defenders')
  })

  it('scripts/screenshot-defenders.ts shoots every row of a JSON report', () => {
    const small = sampleReportWithDefenders(40)
    const json = join(work, 'report.json')
    writeFileSync(json, JSON.stringify(small))
    const out = join(work, 'defenders.png')
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/screenshot-defenders.ts', json, out], {cwd: ROOT, encoding: 'utf8', timeout: 120_000})
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe(`${out}: 1032x${260 + 28 + 40 * 14} px, 40 Defenders\n`)
    const png = readFileSync(out)
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1032, 260 + 28 + 40 * 14])
    const none = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/screenshot-defenders.ts', join(work, 'missing.json'), out], {cwd: ROOT, encoding: 'utf8'})
    expect(none.status).toBe(2)
    expect(none.stderr).toMatch(/^screenshot-defenders: .*missing\.json: ENOENT/)
  }, 120_000)
})
