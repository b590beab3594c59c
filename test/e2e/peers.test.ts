/**
 * Conformance with other projects' oracles: the peers corpus (test/helpers/paths.ts says where)
 * holds real captures written by other projects (Zeek's test traces, the Illustrated TLS 1.2/1.3
 * captures with their key logs, an NTS-KE capture with a Decryption Secrets Block) and, in
 * manifest.json, the values those projects' own oracles state for each (Zeek baselines, the
 * annotated sites, tshark where a project publishes none).
 *
 * Each manifest file is scored by the corpus's own scorer, score.mjs, which runs the real CLI as
 * a user would (`node bin/dev.js analyze captures/F <args> --format json` from the peers
 * directory), finds each connection by its 4-tuple and compares every field with the oracle's
 * value (its matching rules: DN attribute aliases and order, IPv6 expanded, hex case). Using the
 * scorer itself keeps one definition of "matches" for this test and for the figure the corpus
 * README reports. One test per file; its failure message lists the scorer's mismatch lines.
 */
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {expect, it} from 'vitest'
import {ROOT} from '../helpers/paths.js'
import {describeWithPeers} from '../helpers/skip.js'

const run = promisify(execFile)

interface ManifestFile {
  file: string
  args: string[]
  checks: Array<{conn: string | null; field: string; expected: unknown}>
}

/** The scorer's own per-run timeout for the CLI, and the test's deadline (both only catch hangs). */
const SCORER_TIMEOUT_S = 240
const HANG_DEADLINE_MS = (SCORER_TIMEOUT_S + 60) * 1000

/** score.mjs's last line. */
const SUMMARY = /^external peers: (\d+)\/(\d+) fields match, (\d+) files crashed$/

describeWithPeers('peers corpus: every manifest field equals its oracle', (dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {files: ManifestFile[]}

  it('lists captures with fields to check', () => {
    expect(manifest.files.length).toBeGreaterThan(0)
    for (const f of manifest.files) expect(f.checks.length, f.file).toBeGreaterThan(0)
  })

  for (const f of manifest.files) {
    it(
      `${f.file} ${f.args.join(' ')}: ${f.checks.length} fields`,
      async () => {
        const args = [join(dir, 'score.mjs'), dir, join(ROOT, 'bin', 'dev.js'), '--only', f.file, '--timeout', String(SCORER_TIMEOUT_S)]
        // score.mjs exits 1 when anything mismatches: its output is the result either way.
        const {stdout, stderr} = await run(process.execPath, args, {cwd: dir, maxBuffer: 1 << 26}).catch(
          (error: {stdout?: string; stderr?: string}) => ({stdout: error.stdout ?? '', stderr: error.stderr ?? ''}),
        )
        const lines = stdout.trim().split('\n')
        const summary = SUMMARY.exec(lines.at(-1) ?? '')
        expect(summary, `score.mjs printed no summary line:\n${stdout}${stderr}`).not.toBeNull()
        const [, matched, scored, crashed] = summary!.map(Number)
        // --only is a substring: the count proves exactly this file's fields were scored.
        expect(scored, 'fields scored').toBe(f.checks.length)
        const problems = lines.filter((line) => /^(mismatch|crash) /.test(line))
        expect(problems, `${problems.length} of ${f.checks.length} fields differ from the oracle (or the run crashed)`).toEqual([])
        expect([matched, crashed]).toEqual([f.checks.length, 0])
      },
      HANG_DEADLINE_MS,
    )
  }
})
