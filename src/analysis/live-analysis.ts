/**
 * `defender-check capture`: tcpdump (capture/tcpdump.ts) feeding the Analyzer as it captures, the
 * same path a file takes (analyze.ts), stopped by --duration, --count or a signal.
 */
import {LiveCapture, type LiveCaptureOptions} from '../capture/tcpdump.js'
import {forwardSink} from '../capture/sink.js'
import type {CaptureSink} from '../capture/types.js'
import {decodePacket} from '../packet/packet.js'
import {TCP_ACK, TCP_SYN} from '../packet/types.js'
import {Analyzer, type AnalyzerOptions} from './analyzer.js'
import type {CaptureReport} from '../model/report.js'

export interface LiveProgress {
  packets: number
  bytes: number
  /** Client SYNs to a Console port: connection attempts so far. */
  connections: number
  elapsedMs: number
}

export interface CaptureLiveOptions extends AnalyzerOptions {
  interface: string
  /** BPF filter; default: TCP on the policy's Console ports. */
  filter?: string
  count?: number
  durationMs?: number
  writeFile?: string
  /** Aborting stops the capture (Ctrl-C); the analysis of what was captured is still returned. */
  signal?: AbortSignal
  /** Called about every 250 ms while capturing. */
  onProgress?(progress: LiveProgress): void
  tcpdump?: string
}

const PROGRESS_INTERVAL_MS = 250

/** The default BPF filter: TCP to or from the Console port(s); every TCP port when the policy says any. */
export function consoleFilter(ports: number[]): string {
  if (ports.length === 0) return 'tcp'
  return `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`
}

/** Captures until --duration, --count or the signal, then analyses what was captured. */
export async function captureLive(options: CaptureLiveOptions): Promise<CaptureReport> {
  const analyzer = new Analyzer(options)
  const counter = progressSink(analyzer.sink, options.policy.ports, options.onProgress)
  const live = await LiveCapture.start(liveOptions(options, options.filter ?? consoleFilter(options.policy.ports)), counter.sink)
  const stop = () => live.stop()
  const timer = options.durationMs === undefined ? undefined : setTimeout(stop, options.durationMs)
  options.signal?.addEventListener('abort', stop, {once: true})
  if (options.signal?.aborted) stop()
  const onExit = () => live.kill()
  process.once('exit', onExit)
  try {
    const capture = await live.done
    return analyzer.finish({kind: 'live', name: options.interface, capture})
  } finally {
    if (timer) clearTimeout(timer)
    counter.stop()
    options.signal?.removeEventListener('abort', stop)
    process.off('exit', onExit)
  }
}
/** What tcpdump is started with, from a capture's options and its BPF filter. */
export function liveOptions(options: {interface: string; count?: number; writeFile?: string; tcpdump?: string}, filter: string): LiveCaptureOptions {
  const live: LiveCaptureOptions = {interface: options.interface, filter}
  if (options.count !== undefined) live.count = options.count
  if (options.writeFile !== undefined) live.writeFile = options.writeFile
  if (options.tcpdump !== undefined) live.tcpdump = options.tcpdump
  return live
}

/**
 * Counts frames for the progress line and passes them on. Only with a progress callback does it
 * decode packets (a second time: the Analyzer keeps its counts to itself) to count SYNs.
 */
export function progressSink(inner: CaptureSink, ports: number[], onProgress: ((p: LiveProgress) => void) | undefined): {sink: CaptureSink; stop(): void} {
  if (!onProgress) return {sink: inner, stop: () => undefined}
  const consolePorts = new Set(ports)
  const start = performance.now()
  const progress: LiveProgress = {packets: 0, bytes: 0, connections: 0, elapsedMs: 0}
  const report = () => {
    progress.elapsedMs = Math.round(performance.now() - start)
    onProgress(progress)
  }
  const timer = setInterval(report, PROGRESS_INTERVAL_MS)
  // forwardSink keeps the inner sink's fast path and format (a pcap seals the key store).
  const sink = forwardSink(inner, (data, start, end, linkType, origLen) => {
    progress.packets++
    progress.bytes += origLen
    const tcp = decodePacket({index: progress.packets, tsSec: 0, tsNsec: 0, linkType, data: data.subarray(start, end), origLen, interfaceId: 0}).tcp
    if (tcp && (tcp.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && (consolePorts.size === 0 || consolePorts.has(tcp.dstPort))) progress.connections++
  })
  return {
    sink,
    stop() {
      clearInterval(timer)
      report()
    },
  }
}
