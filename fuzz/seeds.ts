/**
 * The seed inputs: every fixture capture and every corpus capture, gzip ones decompressed; and
 * every fixture key log (keys.log, keylog.txt), each capture paired with the one beside it.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {gunzipSync} from 'node:zlib'

export const ROOT = resolve(import.meta.dirname, '..')
const FIXTURES = join(ROOT, 'fixtures')
const CORPUS = resolve(ROOT, '..', 'shared', 'corpus', 'ja4', 'pcap')
const CAPTURE = /\.(pcap|pcapng|cap)(\.gz)?$/
const KEY_LOG = /^(keys\.log|keylog\.txt)$/

export interface Seed {
  name: string
  bytes: Uint8Array
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path, out)
    else if (CAPTURE.test(entry.name)) out.push(path)
  }
}

/** Paths of every seed capture, sorted: the list a run's workers share, so indexes agree. */
export function seedPaths(): string[] {
  const paths: string[] = []
  walk(FIXTURES, paths)
  if (existsSync(CORPUS)) walk(CORPUS, paths)
  return paths.sort()
}

export function loadSeeds(paths: string[] = seedPaths()): Seed[] {
  return paths.map((path) => {
    const raw = readFileSync(path)
    const gzip = raw[0] === 0x1f && raw[1] === 0x8b
    let bytes: Uint8Array = raw
    if (gzip) {
      try {
        bytes = gunzipSync(raw)
      } catch {
        // A deliberately corrupt .gz in the corpus is a seed as it is.
      }
    }
    return {name: relative(ROOT, path), bytes}
  })
}

/** Paths of every fixture key log, sorted. */
export function keyLogPaths(): string[] {
  const paths: string[] = []
  const walkKeys = (dir: string): void => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walkKeys(path)
      else if (KEY_LOG.test(entry.name)) paths.push(path)
    }
  }
  walkKeys(FIXTURES)
  return paths.sort()
}

export interface KeyLogSeed {
  /** The folder it is in: a capture in the same folder is paired with it. */
  dir: string
  bytes: Uint8Array
}

export function loadKeyLogs(paths: string[] = keyLogPaths()): KeyLogSeed[] {
  return paths.map((path) => ({dir: dirname(path), bytes: readFileSync(path)}))
}
