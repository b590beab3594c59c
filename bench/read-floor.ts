/**
 * The floor under `analyze`'s time on a file: the capture read in the analyzer's 4 MiB reads,
 * every record walked, every frame put through the fixed-offset prefilter and its ports compared
 * with 8084 — and nothing else (no connection tracked, no TLS, no report, no CLI). run.ts runs
 * it in a child process of its own and prints it beside the wall times, so that a target can be
 * read against what no analysis can go below on this machine.
 *
 *   node --import tsx bench/read-floor.ts FILE     prints {"seconds":…,"frames":…,"consoleFrames":…}
 */
import {readCapture} from '../src/capture/index.js'
import type {CaptureSink} from '../src/capture/types.js'
import {FRAME_TCP, newPrefilteredTcp, prefilterFrame} from '../src/packet/prefilter.js'

const CONSOLE_PORT = 8084

const path = process.argv[2]
if (path === undefined) {
  process.stderr.write('usage: node --import tsx bench/read-floor.ts FILE\n')
  process.exit(2)
}
const tcp = newPrefilteredTcp()
let consoleFrames = 0
const started = process.hrtime.bigint()
// A reader offers every frame to skipFrame first, as it does for the Analyzer; all are taken.
const sink: CaptureSink = {
  frame() {},
  skipFrame(data: Uint8Array, start: number, end: number, linkType: number) {
    if (prefilterFrame(linkType, data, start, end, tcp) === FRAME_TCP && (tcp.srcPort === CONSOLE_PORT || tcp.dstPort === CONSOLE_PORT)) consoleFrames++
    return true
  },
}
const summary = await readCapture(path, sink)
const seconds = Number(process.hrtime.bigint() - started) / 1e9
process.stdout.write(`${JSON.stringify({seconds, frames: summary.frames, consoleFrames})}\n`)
