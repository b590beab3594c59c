/**
 * How many shards `analyze` uses (analyze-sharded.ts): what --jobs says, else one per core where
 * that pays (a big file, mostly Console traffic), else one thread.
 */
import {statSync} from 'node:fs'
import {open, type FileHandle} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {createCaptureParser} from '../capture/index.js'
import type {Policy} from '../model/policy.js'
import {FRAME_TCP, newPrefilteredTcp, prefilterFrame} from '../packet/prefilter.js'

/** The cores there are: `--jobs`' default. */
export function defaultJobs(): number {
  return Math.min(MAX_JOBS, availableParallelism())
}

/** The most workers --jobs starts: each holds its own read buffers and reads the whole file. */
export const MAX_JOBS = 64

/**
 * Shards for `analyze INPUT`: what --jobs asked (any regular file), else, by default, one per core
 * for a file of SHARD_MIN_BYTES or more that is mostly Console traffic (SHARD_MIN_CONSOLE_SHARE of
 * the frames in its first SAMPLE_BYTES). Each shard reads the whole file, so where reading, not
 * the connections, is the work (a host capture with a little Console traffic in much else) more
 * shards only add reads: bench file (a), 10% Console frames in its first 8 MiB, took 1.37-1.6 s
 * on two shards against 0.98-1.15 s on one; (b), all Console, 5.2-5.4 s against 6.6-7.4 s. 1 for
 * stdin and anything but a regular file (a pipe, a FIFO: it can be read only once), and by
 * default for gzip (every shard would decompress it all).
 */
export async function jobsFor(input: string, requested: number | undefined, policy: Policy): Promise<number> {
  if (input === '-' || requested === 1) return 1
  let size: number
  try {
    const stat = statSync(input)
    if (!stat.isFile()) return 1
    size = stat.size
  } catch {
    // The reader says what is wrong with it, as it does on one thread.
    return 1
  }
  if (requested !== undefined) return requested
  const cores = defaultJobs()
  if (cores === 1 || size < SHARD_MIN_BYTES) return 1
  return (await consoleShare(input, policy)) >= SHARD_MIN_CONSOLE_SHARE ? cores : 1
}

/** The share of Console frames a capture needs, in its first SAMPLE_BYTES, for --jobs' default to shard it. */
export const SHARD_MIN_CONSOLE_SHARE = 0.5
/** What is read of a capture to judge its Console share. */
const SAMPLE_BYTES = 8 << 20

/**
 * The share of the frames in the first SAMPLE_BYTES of `input` that are TCP on a Console port, as
 * the prefilter reads them (tunnelled and odd frames are not counted as Console): 0 for gzip and
 * for anything the capture parser refuses (the analysis then says what is wrong, on one thread).
 */
async function consoleShare(input: string, policy: Policy): Promise<number> {
  const ports = new Set(policy.ports)
  let frames = 0
  let consoleFrames = 0
  const fast = newPrefilteredTcp()
  const parser = createCaptureParser({
    frame: () => undefined,
    skipFrame: (data, start, end, linkType) => {
      frames++
      if (prefilterFrame(linkType, data, start, end, fast) === FRAME_TCP && (ports.size === 0 || ports.has(fast.srcPort) || ports.has(fast.dstPort))) consoleFrames++
      return true
    },
  })
  let handle: FileHandle | undefined
  try {
    handle = await open(input, 'r')
    const sample = new Uint8Array(SAMPLE_BYTES)
    const {bytesRead} = await handle.read(sample, 0, SAMPLE_BYTES, 0)
    if (bytesRead >= 2 && sample[0] === 0x1f && sample[1] === 0x8b) return 0
    parser.push(sample.subarray(0, bytesRead))
  } catch {
    return 0
  } finally {
    await handle?.close()
  }
  return frames === 0 ? 0 : consoleFrames / frames
}

/**
 * Below this size a capture is analysed on one thread unless --jobs says otherwise: a worker
 * takes 0.1-0.2 s to start (node and the analysis's modules; analyze of a 3-frame capture: 0.25-0.29 s
 * on one thread, 0.39-0.42 s on two shards) and a small capture is over before it pays back.
 */
export const SHARD_MIN_BYTES = 64 * 1024 * 1024
