/**
 * Our box renderer (src/report/box-table.ts) against cli-table3 0.6.5, the package the project's
 * brief names, on the table as users get it (issue 14 item 6):
 *   - a capture of at most 20 connections: every connection's block (here 20, from the fixtures);
 *   - a big capture (here 100,000 connections fed to the digest): the summary and the 10 worst.
 * The cells are the report's own: the table is rendered once (colour on, ASCII borders, so the
 * rows can be read back from `|`), its rows are read back, and both renderers draw those rows.
 * Our renderer must reproduce the report's text exactly from them and cli-table3 must draw the
 * same bytes, so the two are timed on identical work. Colour on is the terminal's default and
 * the slow case (ANSI codes in the cells); colour off is also timed.
 *
 *   node --import tsx bench/table-renderers.ts [--rounds 200]
 */
import {execFileSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import Table from 'cli-table3'
import {analyzeCapture} from '../src/analysis/analyze.js'
import {buildPolicy} from '../src/analysis/policy.js'
import type {AnalysisReport, ConnectionReport} from '../src/model/report.js'
import {renderBoxTable} from '../src/report/box-table.js'
import {renderTable, tableDigest} from '../src/report/table.js'

const ROOT = join(import.meta.dirname, '..')
const FIXTURES = join(ROOT, 'fixtures')
const roundsArg = process.argv.indexOf('--rounds')
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 200
/** The table's columns (src/report/table.ts) at a 100-column terminal. */
const WIDTH = 100
const COL_WIDTHS = [24, 8, 12, WIDTH - 24 - 8 - 12 - 5]

/** Every connection of every fixture capture, every TCP port. */
async function fixtureConnections(): Promise<{report: AnalysisReport; connections: ConnectionReport[]}> {
  const captures = readdirSync(FIXTURES, {recursive: true, encoding: 'utf8'}).filter((name) => /\.pcap(ng)?$/.test(name)).sort()
  const connections: ConnectionReport[] = []
  let first: AnalysisReport | undefined
  for (const name of captures) {
    const report = await analyzeCapture(join(FIXTURES, name), {policy: buildPolicy({ports: ['any']})})
    first ??= report
    connections.push(...report.connections)
  }
  return {report: first!, connections}
}

/** The rows of every box in a rendered table (ASCII borders), as the renderer received them. */
function boxesOf(text: string): string[][][] {
  const boxes: string[][][] = []
  let rows: string[][] | undefined
  for (const line of text.split('\n')) {
    if (/^\+-[-+]*\+$/.test(line)) {
      if (rows === undefined) rows = []
      else {
        boxes.push(rows)
        rows = undefined
      }
      continue
    }
    if (rows === undefined || !line.startsWith('|')) continue
    const cells = line.slice(2, -2).split(' | ').map((cell) => cell.replace(/ +$/, ''))
    // A new row starts with a check id; the hint row has none and continues the previous one
    // visually, so it is kept as its own row (its first cells empty), as the report builds it.
    const startsRow = cells[0] !== '' || cells[3]!.includes('hint:') || rows.length === 0
    if (startsRow) rows.push(cells)
    else rows[rows.length - 1] = rows[rows.length - 1]!.map((cell, i) => `${cell}\n${cells[i]}`)
  }
  // The head row is the first of each box.
  return boxes.map((box) => box.map((row) => row.map((cell) => cell.replace(/\n+$/, ''))))
}

const ours = (rows: string[][]) => renderBoxTable(rows.slice(1), {head: rows[0]!, colWidths: COL_WIDTHS, ascii: true})

const CLI_TABLE3_ASCII = {
  top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
  bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
  left: '|', 'left-mid': '', mid: '', 'mid-mid': '', right: '|', 'right-mid': '', middle: '|',
}
function theirs(rows: string[][]): string {
  const table = new Table({head: rows[0]!, colWidths: COL_WIDTHS, chars: CLI_TABLE3_ASCII, style: {head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true}})
  table.push(...rows.slice(1))
  return table.toString()
}

function time(render: () => void): number {
  for (let i = 0; i < 5; i++) render()
  const start = performance.now()
  for (let i = 0; i < ROUNDS; i++) render()
  return (performance.now() - start) / ROUNDS
}

const {report, connections} = await fixtureConnections()
const withId = (c: ConnectionReport, id: number): ConnectionReport => ({...c, id})
const small: AnalysisReport = {...report, connections: connections.slice(0, 20).map((c, i) => withId(c, i + 1))}
const big = tableDigest()
for (let i = 0; i < 100_000; i++) big.add(withId(connections[i % connections.length]!, i + 1))
const bigReport: AnalysisReport = {...report, connections: [], summary: {...report.summary, connections: 100_000}}

console.log(`cli-table3 0.6.5 vs src/report/box-table.ts, ${ROUNDS} rounds each, Node ${process.version}`)
console.log('| table | colour | boxes | ours ms | cli-table3 ms | whole table (ours) ms |')
console.log('|---|---|---:|---:|---:|---:|')
for (const [name, rep, digest] of [['20 connections', small, undefined], ['100,000 connections (summary + 10 worst)', bigReport, big]] as const) {
  for (const color of [true, false]) {
    const text = renderTable(rep, {color, ascii: true, width: WIDTH, timeline: 'none'}, digest)
    const boxes = boxesOf(text)
    for (const rows of boxes) {
      const drawn = ours(rows)
      if (!text.includes(drawn)) throw new Error(`${name}: our renderer does not reproduce the report from the rows read back`)
      if (theirs(rows) !== drawn) throw new Error(`${name}: cli-table3 draws other bytes:\n${theirs(rows)}\n---\n${drawn}`)
    }
    const oursMs = time(() => boxes.forEach(ours))
    const theirsMs = time(() => boxes.forEach(theirs))
    const wholeMs = time(() => renderTable(rep, {color, ascii: true, width: WIDTH, timeline: 'none'}, digest))
    console.log(`| ${name} | ${color ? 'on' : 'off'} | ${boxes.length} | ${oursMs.toFixed(3)} | ${theirsMs.toFixed(3)} | ${wholeMs.toFixed(3)} |`)
  }
}

// What loading cli-table3 adds to a run's start (a fresh process each time, median of 7).
const loads = Array.from({length: 7}, () =>
  Number(execFileSync(process.execPath, ['-e', "const t=performance.now();require('cli-table3');console.log(performance.now()-t)"], {cwd: ROOT, encoding: 'utf8'})),
).sort((a, b) => a - b)
console.log(`require('cli-table3') in a fresh process: median ${loads[3]!.toFixed(1)} ms (min ${loads[0]!.toFixed(1)}, max ${loads[6]!.toFixed(1)})`)

// A whole small run for scale: the built CLI (npm run build) drawing the table of one fixture.
const runs = Array.from({length: 5}, () => {
  const start = performance.now()
  execFileSync(process.execPath, [join(ROOT, 'bin', 'run.js'), 'analyze', join(FIXTURES, 'wss', 'node-mtls', 'capture.pcap'), '-f', 'table'], {cwd: ROOT, env: {...process.env, FORCE_COLOR: '1'}})
  return performance.now() - start
}).sort((a, b) => a - b)
console.log(`a whole run, analyze of a 1-connection fixture to a table (bin/run.js, dist/): median ${runs[2]!.toFixed(0)} ms`)
