/**
 * `analyze --jobs 3` writes the report `--jobs 1` writes, byte for byte (issue 21): every fixture
 * run and every corpus capture as NDJSON (the workers send each connection's text) and as the
 * table (the workers keep digests, merged at the end); the fixtures also as JSON (held by id, then
 * streamed) and JUnit (whole reports kept). With three workers on captures this small most shards
 * hold a few connections and some none, which is where ids and order go wrong if they do.
 *
 * The runs are the built CLI's (dist/, built here by tsc): a worker starts from dist/shards/worker.js
 * in 0.1-0.2 s, from the TypeScript sources through tsx in ~0.6 s. They are made in this process,
 * through oclif's own command runner, each into a file.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {corpusRuns, fixtureRuns, type CaptureRun} from '../helpers/capture-runs.js'
import {ROOT, JA4_ABSENT, PEERS_ABSENT, ja4Corpus, peersCorpus} from '../helpers/paths.js'
import {skippedBecause} from '../helpers/skip.js'

type OclifConfig = {runCommand(id: string, argv: string[]): Promise<unknown>}

let config: OclifConfig
let out: string

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {cwd: ROOT, stdio: 'inherit'})
  const oclif = (await import('@oclif/core')) as unknown as {settings: {enableAutoTranspile?: boolean}; Config: {load(root: string): Promise<OclifConfig>}}
  // As bin/run.js: the built commands, not the TypeScript sources (NODE_ENV=test would pick those).
  oclif.settings.enableAutoTranspile = false
  config = await oclif.Config.load(pathToFileURL(join(ROOT, 'bin', 'run.js')).href)
  out = mkdtempSync(join(tmpdir(), 'defender-check-jobs-'))
}, 300_000)

afterAll(() => {
  if (out !== undefined) rmSync(out, {recursive: true, force: true})
})

/** The report of `analyze ARGS --format FORMAT --jobs JOBS` as written to a file, what it said on stderr, and the exit code. */
async function report(run: CaptureRun, format: string, jobs: number): Promise<{text: string; stderr: string; exitCode: unknown}> {
  const file = join(out, `${run.name}.${format}.${jobs}`)
  const before = process.exitCode
  const write = process.stderr.write
  const said: string[] = []
  // Kept to compare (a key log's warning, a note), not printed hundreds of times into the test log.
  process.stderr.write = ((chunk: string | Uint8Array) => {
    said.push(String(chunk))
    return true
  }) as typeof process.stderr.write
  try {
    try {
      await config.runCommand('analyze', [...run.args, '--format', format, '--output', file, '--jobs', String(jobs)])
    } catch (error) {
      // oclif ends a failed command with EEXIT: what it said is the reason.
      throw new Error(`analyze ${run.args.join(' ')} --format ${format} --jobs ${jobs}: ${(error as Error).message}; stderr: ${said.join('')}`)
    }
    return {text: readFileSync(file, 'utf8'), stderr: said.join(''), exitCode: process.exitCode}
  } finally {
    process.stderr.write = write
    // The command sets the exit code of the test process itself.
    process.exitCode = before
  }
}

async function expectSameReports(run: CaptureRun, formats: string[]): Promise<void> {
  for (const format of formats) {
    const one = await report(run, format, 1)
    const three = await report(run, format, 3)
    expect(one.text.length, `${run.name} ${format}: an empty report says nothing`).toBeGreaterThan(0)
    expect(three.exitCode, `${run.name} ${format}: exit code`).toBe(one.exitCode)
    expect(three.stderr, `${run.name} ${format}: what it said on stderr`).toBe(one.stderr)
    // Compared as text, not with toBe: a failure shows the first line that differs, not 1 MB.
    const a = one.text.split('\n')
    const b = three.text.split('\n')
    const at = a.findIndex((line, i) => line !== b[i])
    expect(at === -1 && a.length === b.length ? 'same' : `line ${at + 1}: ${a[at]?.slice(0, 300)}\n   vs: ${b[at]?.slice(0, 300)}`, `${run.name} ${format}`).toBe('same')
  }
}

describe('analyze --jobs 3 against --jobs 1: the same bytes', () => {
  for (const run of fixtureRuns()) {
    it(run.name, () => expectSameReports(run, ['ndjson', 'table', 'json', 'junit']), 120_000)
  }
  if (ja4Corpus() === undefined) skippedBecause('the ja4 corpus captures', JA4_ABSENT)
  if (peersCorpus() === undefined) skippedBecause('the peers corpus captures', PEERS_ABSENT)
  for (const run of corpusRuns()) {
    it(run.name, () => expectSameReports(run, ['ndjson', 'table']), 120_000)
  }
})
