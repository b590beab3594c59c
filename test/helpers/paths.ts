import {existsSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const FIXTURES = join(ROOT, 'fixtures')

/**
 * The public corpora are other projects' data and are never committed here. They are looked for
 * in the directory DEFENDER_CHECK_CORPUS names (holding ja4/ and peers/), else in ../shared/corpus
 * beside the repository (as in this project's workplace and CI).
 */
export const CORPUS_ROOT = process.env.DEFENDER_CHECK_CORPUS ? resolve(process.env.DEFENDER_CHECK_CORPUS) : resolve(ROOT, '..', 'shared', 'corpus')
/** FoxIO's JA4 corpus: pcap/ (captures) and expected/ (its Python tests' expected outputs). */
export const CORPUS = join(CORPUS_ROOT, 'ja4')
export const CORPUS_PCAPS = join(CORPUS, 'pcap')
/** Real captures from other projects with their oracles' values (manifest.json, score.mjs). */
export const PEERS = join(CORPUS_ROOT, 'peers')

/** The JA4 corpus directory, or undefined when it is not there. */
export function ja4Corpus(): string | undefined {
  return existsSync(CORPUS_PCAPS) ? CORPUS : undefined
}

/** The peers corpus directory, or undefined when it is not there. */
export function peersCorpus(): string | undefined {
  return existsSync(join(PEERS, 'manifest.json')) ? PEERS : undefined
}

/** One line: what is missing, where it was looked for, where to get it. */
export const JA4_ABSENT =
  `ja4 corpus absent (no ${CORPUS_PCAPS}): put FoxIO's github.com/FoxIO-LLC/ja4 pcap/ folder there ` +
  `(and python/test/testdata/ as expected/), or set DEFENDER_CHECK_CORPUS to a directory holding ja4/`
export const PEERS_ABSENT =
  `peers corpus absent (no ${join(PEERS, 'manifest.json')}): its captures come from Zeek's testing/btest/Traces, ` +
  `syncsynchalt/illustrated-tls13 and -tls12, vgiotsas/NTS-KE-Dissector (list and commits in the corpus README), ` +
  `or set DEFENDER_CHECK_CORPUS to a directory holding peers/`

/** Every JA4 corpus capture file ([] when the corpus is absent: its suites are skipped, see skip.ts). */
export function corpusFiles(): string[] {
  if (!ja4Corpus()) return []
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
/**
 * Reproductions of issue 16 (hostile input, signals, secrets): other projects' style data kept
 * beside the repository like the corpora, at DEFENDER_CHECK_REPRO or ../shared/repro/reliability.
 */
export const RELIABILITY_REPRO = process.env.DEFENDER_CHECK_REPRO ? resolve(process.env.DEFENDER_CHECK_REPRO) : resolve(ROOT, '..', 'shared', 'repro', 'reliability')
/** One line: what is missing and where it was looked for. */
export const REPRO_ABSENT = `reliability reproductions absent (no ${RELIABILITY_REPRO}): set DEFENDER_CHECK_REPRO to the folder holding them`
