/**
 * Suites that need a public corpus (other projects' data, see paths.ts). When the corpus is
 * absent their bodies are not run at all (so nothing reads a missing file at collection time):
 * one test is registered in their place and skipped with a note saying what is missing and where
 * to get it, which test/helpers/skip-reporter.ts prints as one line at the end of the run.
 */
import {readFileSync} from 'node:fs'
import {basename, join, sep} from 'node:path'
import {describe, it, type TestFunction} from 'vitest'
import {CORPUS, CORPUS_PCAPS, JA4_ABSENT, PEERS_ABSENT, ja4Corpus, peersCorpus} from './paths.js'

/** Registers a test that is skipped with `reason` as its note (shown by skip-reporter.ts). */
export function skippedBecause(name: string, reason: string): void {
  it(name, (ctx) => ctx.skip(reason))
}

/** describe(name, body) when the JA4 corpus is present; one noted skip in its place otherwise. */
export function describeWithJa4(name: string, body: () => void | Promise<void>): void {
  if (ja4Corpus()) describe(name, body)
  else describe(name, () => skippedBecause('needs the ja4 corpus', JA4_ABSENT))
}

/** it(name, test) when the JA4 corpus is present; the same test skipped with the reason otherwise. */
export function itWithJa4(name: string, test: TestFunction, timeout?: number): void {
  if (ja4Corpus()) it(name, test, timeout)
  else skippedBecause(name, JA4_ABSENT)
}

/** describe(name, body) when the peers corpus is present; one noted skip in its place otherwise. */
export function describeWithPeers(name: string, body: (dir: string) => void): void {
  const dir = peersCorpus()
  if (dir) describe(name, () => body(dir))
  else describe(name, () => skippedBecause('needs the peers corpus', PEERS_ABSENT))
}

/**
 * A JA4 corpus capture's bytes, read at collection time by suites wrapped in describeWithJa4;
 * empty when the corpus is absent (those suites then register their noted skip instead).
 */
export function ja4Bytes(name: string): Buffer {
  return ja4Corpus() ? readFileSync(join(CORPUS_PCAPS, name)) : Buffer.alloc(0)
}

/** `cases()` when the JA4 corpus is present (for it.each); otherwise none, and one noted skip. */
export function ja4Cases<T>(what: string, cases: () => T[]): T[] {
  if (ja4Corpus()) return cases()
  skippedBecause(what, JA4_ABSENT)
  return []
}

/** `items` (paths, or objects with a `file` path) without the JA4 corpus files when the corpus is absent (one noted skip names them). */
export function presentFiles<T extends string | {file: string}>(items: T[]): T[] {
  if (ja4Corpus()) return items
  const pathOf = (item: T): string => (typeof item === 'string' ? item : item.file)
  const absent = items.filter((item) => pathOf(item).startsWith(CORPUS + sep))
  if (absent.length > 0) skippedBecause(absent.map((item) => basename(pathOf(item))).join(', '), JA4_ABSENT)
  return items.filter((item) => !absent.includes(item))
}

/**
 * describe(name, body) when `present` (a file or folder from ../shared this suite reads); one test
 * skipped with `reason` as its note in its place otherwise.
 */
export function describeWhen(present: boolean, reason: string, name: string, body: () => void): void {
  if (present) describe(name, body)
  else describe(name, () => skippedBecause(`needs ${name}`, reason))
}
