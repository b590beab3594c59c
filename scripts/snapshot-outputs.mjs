#!/usr/bin/env node
// Writes every report format (json, ndjson, table, junit) of every fixture run and every corpus
// capture to OUT, one file per run and format, so that two builds can be compared byte for byte
// (`diff -r OUT_BEFORE OUT_AFTER`): a refactor that claims "behaviour unchanged" proves it here.
//
//   node scripts/snapshot-outputs.mjs OUT [--cli bin/run.js] [--jobs 2]
//
// Runs: each fixture's expected.json run and its variants (their args), each ja4 corpus capture
// and each peers corpus capture with `--port any` (and the peers manifest's args). Corpora come
// from DEFENDER_CHECK_CORPUS or ../shared/corpus; an absent corpus is said in one line.
// Run from the repository root after `npm run build`.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join, relative, resolve} from 'node:path'

const argv = process.argv.slice(2)
const out = argv[0]
if (!out || out.startsWith('-')) {
  console.error('usage: node scripts/snapshot-outputs.mjs OUT [--cli bin/run.js] [--jobs 2]')
  process.exit(2)
}
const option = (name, fallback) => {
  const at = argv.indexOf(name)
  return at >= 0 ? argv[at + 1] : fallback
}
const cli = resolve(option('--cli', 'bin/run.js'))
const jobs = Number(option('--jobs', '2'))
const root = process.cwd()
const corpus = process.env.DEFENDER_CHECK_CORPUS ? resolve(process.env.DEFENDER_CHECK_CORPUS) : resolve(root, '..', 'shared', 'corpus')
const FORMATS = ['json', 'ndjson', 'table', 'junit']

/** [name, cwd, args] for every run. */
const runs = []
const walk = (dir) => {
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    if (!entry.isDirectory()) continue
    const path = join(dir, entry.name)
    const expectedFile = join(path, 'expected.json')
    if (existsSync(expectedFile)) {
      const expected = JSON.parse(readFileSync(expectedFile, 'utf8'))
      const all = [expected, ...(expected.variants ?? []), ...(expected.withPorts ? [expected.withPorts] : [])]
      all.forEach((run, i) => {
        const args = run.args ?? (run.ports ? run.ports.flatMap((p) => ['--port', String(p)]) : expected.args ?? (expected.ports ?? []).flatMap((p) => ['--port', String(p)]))
        // Relative to the root, so that two checkouts in different folders give the same bytes.
        const capture = relative(root, join(path, run.capture ?? expected.capture ?? 'capture.pcap'))
        runs.push([`fixture-${relative(join(root, 'fixtures'), path).replaceAll('/', '_')}-${i}`, root, [capture, ...args]])
      })
    }
    walk(path)
  }
}
walk(join(root, 'fixtures'))

const ja4 = join(corpus, 'ja4', 'pcap')
if (existsSync(ja4)) {
  for (const name of readdirSync(ja4).filter((n) => !n.startsWith('.')).sort()) runs.push([`ja4-${name}`, root, [join(ja4, name), '--port', 'any']])
} else console.log(`ja4 corpus absent (${ja4}): not compared`)
const peers = join(corpus, 'peers')
if (existsSync(join(peers, 'manifest.json'))) {
  const manifest = JSON.parse(readFileSync(join(peers, 'manifest.json'), 'utf8'))
  const files = Array.isArray(manifest) ? manifest : (manifest.files ?? Object.values(manifest))
  for (const file of files) {
    const name = file.file ?? file.name
    if (!name) continue
    runs.push([`peers-${name.replaceAll('/', '_')}`, peers, [name, ...(file.args ?? ['--port', 'any'])]])
  }
} else console.log(`peers corpus absent (${peers}): not compared`)

mkdirSync(out, {recursive: true})
const run = (cwd, args) =>
  new Promise((done) => {
    const child = spawn(process.execPath, [cli, 'analyze', ...args], {cwd, env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', COLUMNS: '100'}})
    const chunks = []
    const errs = []
    child.stdout.on('data', (c) => chunks.push(c))
    child.stderr.on('data', (c) => errs.push(c))
    child.on('close', (code) => done(Buffer.concat([Buffer.concat(chunks), Buffer.from(`\n--- stderr ---\n`), Buffer.concat(errs), Buffer.from(`\n--- exit ${code} ---\n`)])))
  })
const queue = runs.flatMap(([name, cwd, args]) => FORMATS.map((format) => [`${name}.${format}`, cwd, [...args, '--format', format]]))
let next = 0
await Promise.all(
  Array.from({length: jobs}, async () => {
    while (next < queue.length) {
      const [file, cwd, args] = queue[next++]
      writeFileSync(join(out, file), await run(cwd, args))
    }
  }),
)
console.log(`${runs.length} runs x ${FORMATS.length} formats = ${queue.length} outputs in ${out}`)
