/**
 * One fuzz input from (seed file, input seed, donor file): the mutated capture bytes and how they
 * enter the pipeline (gzip-compressed and maybe corrupted, with a key log as is or mutated, or
 * plain). Everything is decided by the input seed, so a finding replays from those three numbers.
 */
import {dirname, join} from 'node:path'
import {mutate, Rng} from './mutate.js'
import {ROOT, type KeyLogSeed, type Seed} from './seeds.js'
import type {PipelineOptions} from './target.js'

export interface FuzzInput {
  data: Uint8Array
  options: PipelineOptions
  /** How it was fed, for the finding's text. */
  via: string
}

const decoder = new TextDecoder('utf-8')

export function buildInput(seeds: Seed[], keyLogs: KeyLogSeed[], fileIndex: number, inputSeed: number, donorIndex: number): FuzzInput {
  const data = mutate(seeds[fileIndex]!.bytes, inputSeed, seeds[donorIndex]!.bytes)
  const options: PipelineOptions = {policy: (inputSeed & 1) as 0 | 1, splitAt: data.length === 0 ? 0 : inputSeed % data.length}
  const rng = new Rng(inputSeed ^ 0x6b65796c)
  const route = rng.below(8)
  if (route < 2) {
    // gzip (analyze FILE.gz, stdin): half of them with one compressed byte flipped.
    options.gzip = true
    if (rng.below(2) === 0) options.corruptGzipAt = rng.next()
    return {data, options, via: options.corruptGzipAt === undefined ? 'gzip' : `gzip, byte ${options.corruptGzipAt} flipped`}
  }
  if (route < 5 && keyLogs.length > 0) {
    // The capture's own key log when it has one (so mutated captures are decrypted), else any;
    // half of the time the key log itself is mutated (spliced with another one).
    const dir = dirname(join(ROOT, seeds[fileIndex]!.name))
    const own = keyLogs.findIndex((k) => k.dir === dir)
    const index = own >= 0 && rng.below(2) === 0 ? own : rng.below(keyLogs.length)
    const mutated = rng.below(2) === 0
    const bytes = mutated ? mutate(keyLogs[index]!.bytes, rng.next(), keyLogs[rng.below(keyLogs.length)]!.bytes) : keyLogs[index]!.bytes
    options.keyLog = decoder.decode(bytes)
    return {data, options, via: `key log #${index}${mutated ? ' mutated' : ''}`}
  }
  return {data, options, via: 'plain'}
}
