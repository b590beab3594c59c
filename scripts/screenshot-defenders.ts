/**
 * A PNG of a report's per-Defender sessions chart (the HTML report's "Defenders" section, every
 * row shown), shot by headless Chromium: for docs/ and for support tickets.
 *
 *   node --import tsx scripts/screenshot-defenders.ts REPORT.json OUT.png
 *
 * REPORT.json is `defender-check analyze … --format json` output with its `defenders` view.
 * Chromium comes from CHROMIUM or `chromium` on the PATH (Debian: apt-get install chromium). The
 * page is written to a temporary folder that is removed afterwards; it loads nothing else (its
 * Content-Security-Policy forbids it), so the shot is the same offline.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import type {AnalysisReport} from '../src/model/report.js'
import {renderDefendersPage} from '../src/report/html.js'

/** Chromium's screenshots stop being reliable past this height (GPU texture limits); taller charts are cut. */
const MAX_HEIGHT = 16_384

function fail(message: string): never {
  process.stderr.write(`screenshot-defenders: ${message}\n`)
  process.exit(2)
}

const [reportPath, outPath] = process.argv.slice(2)
if (reportPath === undefined || outPath === undefined) fail('usage: node --import tsx scripts/screenshot-defenders.ts REPORT.json OUT.png')
let report: AnalysisReport
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8')) as AnalysisReport
} catch (error) {
  fail(`${reportPath}: ${(error as Error).message}`)
}
if (report.defenders === undefined) fail(`${reportPath}: the report has no per-Defender view ("defenders"); was it made by analyze or capture?`)

const page = renderDefendersPage(report)
const height = Math.min(page.height, MAX_HEIGHT)
const work = mkdtempSync(join(tmpdir(), 'dc-shot-'))
try {
  const htmlPath = join(work, 'defenders.html')
  writeFileSync(htmlPath, page.html)
  const out = resolve(outPath)
  rmSync(out, {force: true})
  const chromium = process.env.CHROMIUM ?? 'chromium'
  const run = spawnSync(
    chromium,
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      `--user-data-dir=${join(work, 'profile')}`, `--window-size=${page.width},${height}`, `--screenshot=${out}`, pathToFileURL(htmlPath).href],
    {encoding: 'utf8', timeout: 120_000},
  )
  if (run.error) fail(`${chromium} did not run (${run.error.message}): install it (apt-get install chromium) or set CHROMIUM`)
  if (!existsSync(out)) fail(`${chromium} wrote no screenshot (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-2).join(' ')}`)
  const rows = report.defenders.defenders.length
  process.stdout.write(`${out}: ${page.width}x${height} px, ${rows} Defender${rows === 1 ? '' : 's'}${height < page.height ? ` (cut at ${MAX_HEIGHT} px of ${page.height})` : ''}\n`)
} finally {
  rmSync(work, {recursive: true, force: true})
}
