/**
 * Every `analyze` run the repository's data gives: each fixture's expected.json run and its
 * variants (with their args), every other fixture capture with `--port any`, each JA4 corpus capture and each peers corpus capture with
 * `--port any` (the peers manifest's args where it has them). Used where two ways of running must
 * give the same bytes (test/shards/jobs.test.ts; scripts/snapshot-outputs.mjs compares builds).
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {FIXTURES, ROOT, ja4Corpus, peersCorpus} from './paths.js'

export interface CaptureRun {
  /** A file-name-safe name: fixture-…, ja4-…, peers-…. */
  name: string
  /** The capture first, then the run's flags; the capture relative to ROOT for fixtures, absolute for corpora. */
  args: string[]
  fixture: boolean
}

interface ExpectedRun {
  args?: string[]
  ports?: number[]
  capture?: string
}

export function fixtureRuns(): CaptureRun[] {
  const runs: CaptureRun[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory()) continue
      const path = join(dir, entry.name)
      const expectedFile = join(path, 'expected.json')
      if (existsSync(expectedFile)) {
        const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as ExpectedRun & {variants?: ExpectedRun[]; withPorts?: ExpectedRun}
        const all = [expected, ...(expected.variants ?? []), ...(expected.withPorts ? [expected.withPorts] : [])]
        all.forEach((run, i) => {
          const args = run.args ?? (run.ports ? portArgs(run.ports) : (expected.args ?? portArgs(expected.ports ?? [])))
          // Relative to the root, so that two checkouts in different folders give the same bytes.
          const capture = relative(ROOT, join(path, run.capture ?? expected.capture ?? 'capture.pcap'))
          runs.push({name: `fixture-${relative(FIXTURES, path).replaceAll('/', '_')}-${i}`, args: [capture, ...args], fixture: true})
        })
      }
      walk(path)
    }
  }
  walk(FIXTURES)
  // Captures no expected.json runs (the fleet, path and live fixtures, whose READMEs and tests
  // say their verdicts): every TCP port, so that all their traffic is analysed.
  const covered = new Set(runs.map((run) => run.args[0]))
  for (const capture of captureFiles(FIXTURES)) {
    const path = relative(ROOT, capture)
    if (!covered.has(path)) runs.push({name: `fixture-${relative(FIXTURES, capture).replaceAll('/', '_')}`, args: [path, '--port', 'any'], fixture: true})
  }
  return runs
}

function captureFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true})
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return captureFiles(path)
      return /\.(pcap|pcapng)(\.gz)?$/.test(entry.name) ? [path] : []
    })
}

/** The corpora's runs ([] for a corpus that is absent). */
export function corpusRuns(): CaptureRun[] {
  const runs: CaptureRun[] = []
  const ja4 = ja4Corpus()
  if (ja4 !== undefined) {
    const pcaps = join(ja4, 'pcap')
    for (const name of readdirSync(pcaps).filter((n) => !n.startsWith('.')).sort()) runs.push({name: `ja4-${name}`, args: [join(pcaps, name), '--port', 'any'], fixture: false})
  }
  const peers = peersCorpus()
  if (peers !== undefined) {
    const manifest = JSON.parse(readFileSync(join(peers, 'manifest.json'), 'utf8')) as unknown
    const files = (Array.isArray(manifest) ? manifest : ((manifest as {files?: unknown[]}).files ?? Object.values(manifest as object))) as Array<{file?: string; name?: string; args?: string[]}>
    for (const file of files) {
      const name = file.file ?? file.name
      if (!name) continue
      runs.push({name: `peers-${name.replaceAll('/', '_')}`, args: [join(peers, name), ...absolutePaths(peers, file.args ?? ['--port', 'any'])], fixture: false})
    }
  }
  return runs
}

function portArgs(ports: number[]): string[] {
  return ports.flatMap((port) => ['--port', String(port)])
}

/** A manifest's file arguments (--keylog keys/x.log) are relative to the corpus folder. */
function absolutePaths(dir: string, args: string[]): string[] {
  return args.map((arg, i) => (i > 0 && (args[i - 1] === '--keylog' || args[i - 1] === '--ca') ? join(dir, arg) : arg))
}
