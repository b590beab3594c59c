/** The seed inputs: every fixture capture and every corpus capture, gzip ones decompressed. */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative, resolve} from 'node:path'
import {gunzipSync} from 'node:zlib'

export const ROOT = resolve(import.meta.dirname, '..')
const FIXTURES = join(ROOT, 'fixtures')
const CORPUS = resolve(ROOT, '..', 'shared', 'corpus', 'ja4', 'pcap')
const CAPTURE = /\.(pcap|pcapng|cap)(\.gz)?$/

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
