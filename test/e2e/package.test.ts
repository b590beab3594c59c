/**
 * The package as a user gets it (issue 14 item 4): `npm pack` (its prepack builds dist/ and the
 * oclif manifest), `npm install -g` of the tarball into a temporary prefix, then the installed
 * `defender-check` runs --version and analyzes a fixture. The pack runs in a copy of the sources
 * (node_modules linked), so the checkout's dist/ is left alone. npm fetches the runtime
 * dependencies from its registry (or its cache); this is the slow test of the suite.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import {validateReport} from '../../src/report/schema.js'
import {FIXTURES, ROOT} from '../helpers/paths.js'

const work = mkdtempSync(join(tmpdir(), 'defender-check-package-'))
const source = join(work, 'source')
const packed = join(work, 'packed')
const prefix = join(work, 'prefix')
/** npm's own lifecycle variables (set when this runs under `npm test`) must not leak into the npm commands below. */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))
const npm = (args: string[], cwd: string) => execFileSync('npm', args, {cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 540_000})

let tarball: string
let files: string[]

beforeAll(() => {
  for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src', 'schema']) cpSync(join(ROOT, path), join(source, path), {recursive: true})
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir')
  mkdirSync(packed)
  npm(['pack', '--silent', '--pack-destination', packed], source)
  tarball = join(packed, readdirSync(packed).find((name) => /^defender-check-.*\.tgz$/.test(name))!)
  files = execFileSync('tar', ['tzf', tarball], {encoding: 'utf8'}).split('\n').filter(Boolean)
  npm(['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], work)
}, 600_000)
// The copy, the tarball and the installed package with its dependencies: ~60 MB a run.
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('npm pack', () => {
  it('ships the built CLI, its oclif manifest, the schema and the README; no sources, tests or source maps', () => {
    for (const file of ['package/bin/run.js', 'package/dist/commands/analyze.js', 'package/dist/hooks/command-not-found.js', 'package/oclif.manifest.json', 'package/schema/report.schema.json', 'package/README.md', 'package/package.json']) {
      expect(files, file).toContain(file)
    }
    expect(files.filter((file) => /^package\/(src|test|fixtures|bench|fuzz)\/|\.map$|^package\/bin\/dev\.js$/.test(file))).toEqual([])
  })
})

describe('npm install -g ./defender-check-*.tgz', () => {
  const installed = () => join(prefix, 'bin', 'defender-check')

  it('`defender-check --version` works', () => {
    const run = spawnSync(installed(), ['--version'], {encoding: 'utf8', cwd: work, stdio: ['ignore', 'pipe', 'pipe']})
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^defender-check\/0\.1\.0 linux-x64 node-v20\./)
  })

  it('`defender-check analyze FIXTURE -f json` reports the connection, valid against the schema, exit 0', () => {
    const run = spawnSync(installed(), ['analyze', join(FIXTURES, 'wss', 'node-mtls', 'capture.pcap'), '-f', 'json'], {encoding: 'utf8', cwd: work, stdio: ['ignore', 'pipe', 'pipe']})
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(validateReport(report)).toEqual([])
    expect(report.connections).toHaveLength(1)
    expect(report.connections[0]!.server).toEqual({ip: '127.0.0.80', port: 8084})
  })

  it('the commands come from the manifest (no scan of dist/commands at start) and a mistyped one gets its suggestion', () => {
    const run = spawnSync(installed(), ['analyse'], {encoding: 'utf8', cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, DEBUG: 'oclif:config:defender-check'}})
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/using manifest from .*defender-check\/oclif\.manifest\.json/)
    expect(run.stderr).toContain('Did you mean "analyze"?')
  })
})
