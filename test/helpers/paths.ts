import {existsSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The public JA4 corpus lives beside the repository (../shared in a checkout, as in CI). */
export const CORPUS = resolve(ROOT, '..', 'shared', 'corpus', 'ja4')
export const CORPUS_PCAPS = join(CORPUS, 'pcap')
/** The peers corpus (other projects' captures and key logs, with score.mjs) beside the repository. */
export const PEERS_CORPUS = resolve(ROOT, '..', 'shared', 'corpus', 'peers')
export const FIXTURES = join(ROOT, 'fixtures')
/** The reliability reproductions (issue 16) beside the repository: ../shared/repro/reliability. */
export const REPRO_RELIABILITY = resolve(ROOT, '..', 'shared', 'repro', 'reliability')

/** Every corpus capture file. */
export function corpusFiles(): string[] {
  return readdirSync(CORPUS_PCAPS)
    .filter((name) => !name.startsWith('.'))
    .sort()
    .map((name) => join(CORPUS_PCAPS, name))
}

/** Every fixture folder holding an expected.json, relative to fixtures/. */
export function fixtureDirs(): string[] {
  const found: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      if (!entry.isDirectory()) continue
      const path = join(dir, entry.name)
      if (existsSync(join(path, 'expected.json'))) found.push(path)
      walk(path)
    }
  }
  walk(FIXTURES)
  return found.sort()
}
/** Reproductions of issue 16 (hostile input, signals, secrets), beside the repository like the corpus. */
export const RELIABILITY_REPRO = resolve(ROOT, '..', 'shared', 'repro', 'reliability')
