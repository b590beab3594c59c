/**
 * Capture reader throughput: builds a ~500 MB classic pcap in the temp folder by repeating the
 * records of a corpus capture, reads it with readCapture() and a no-op sink, and reports MB/s
 * and peak RSS. Each measurement runs in a fresh child process so its peak RSS is the reader's
 * alone. For comparison it also reads the file through fs.createReadStream (1 MiB chunks) into
 * the same parser: that is the alternative readCapture's FileHandle loop was chosen over.
 * The file is deleted afterwards.
 *
 *   node --import tsx bench/capture-throughput.ts [sizeMB=500] [corpus-file=ssh-scp-1050.pcap]
 */
import {execFileSync} from 'node:child_process'
import {createReadStream, readFileSync, rmSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createCaptureParser} from '../src/capture/parser.js'
import {readCapture} from '../src/capture/source.js'
import type {CaptureSink, CaptureSummary} from '../src/capture/types.js'

const MB = 1_000_000
const MiB = 1 << 20
const noop: CaptureSink = {frame() {}}

type Mode = 'readCapture' | 'createReadStream'

interface Measurement {
  mode: Mode
  frames: number
  bytes: number
  seconds: number
  peakRssMiB: number
}

async function measure(path: string, mode: Mode): Promise<Measurement> {
  const started = process.hrtime.bigint()
  let summary: CaptureSummary
  if (mode === 'readCapture') {
    summary = await readCapture(path, noop)
  } else {
    const parser = createCaptureParser(noop)
    for await (const chunk of createReadStream(path, {highWaterMark: MiB})) parser.push(chunk as Buffer)
    summary = parser.end()
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return {mode, frames: summary.frames, bytes: summary.bytes, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024}
}

/** Writes the source's file header, then its records again and again until `size` bytes. */
async function buildCapture(source: string, target: string, size: number): Promise<void> {
  const bytes = readFileSync(source)
  const magic = bytes.readUInt32LE(0)
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${source} is not a little-endian classic pcap`)
  const records = bytes.subarray(24)
  const out = await open(target, 'w')
  try {
    await out.write(bytes.subarray(0, 24))
    for (let written = 24; written < size; written += records.length) await out.write(records)
  } finally {
    await out.close()
  }
}

async function main(): Promise<void> {
  const [flag, path, mode] = process.argv.slice(2)
  if (flag === '--measure') {
    console.log(JSON.stringify(await measure(path!, mode as Mode)))
    return
  }
  const sizeMB = Number(process.argv[2] ?? 500)
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const source = resolve(root, '..', 'shared', 'corpus', 'ja4', 'pcap', process.argv[3] ?? 'ssh-scp-1050.pcap')
  const target = join(tmpdir(), `capture-throughput-${process.pid}.pcap`)
  try {
    await buildCapture(source, target, sizeMB * MB)
    // Warm the page cache so every run measures parsing, not the disk.
    await measure(target, 'readCapture')
    for (const mode of ['readCapture', 'createReadStream', 'readCapture', 'createReadStream'] as const) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', target, mode], {
        encoding: 'utf8',
      })
      const m = JSON.parse(out) as Measurement
      console.log(
        `${m.mode.padEnd(16)} ${(m.bytes / MB).toFixed(0)} MB, ${m.frames} frames in ${m.seconds.toFixed(3)} s: ` +
          `${(m.bytes / MB / m.seconds).toFixed(0)} MB/s, ${(m.frames / m.seconds / 1e6).toFixed(2)} Mframes/s, ` +
          `peak RSS ${m.peakRssMiB.toFixed(0)} MiB`,
      )
    }
  } finally {
    rmSync(target, {force: true})
  }
}

await main()
