/**
 * A progress bar on stderr for long reads: bytes read of the total, rate and time left. Shown
 * only on a terminal, for inputs big enough to take a while, and never with machine output
 * (--json): the caller decides `enabled`. Redrawn at most every REDRAW_MS in place (\r), and
 * erased when done so the report starts on a clean line.
 */

/** Inputs smaller than this finish before a bar would help. */
export const PROGRESS_MIN_BYTES = 50_000_000
const REDRAW_MS = 100
const BAR_WIDTH = 30

export interface ProgressOptions {
  /** Draw at all (a TTY, not --json). */
  enabled: boolean
  minBytes?: number
  /** Milliseconds clock, for tests. */
  now?: () => number
}

export interface Progress {
  /** The capture reader's onProgress callback. */
  update(bytesRead: number, totalBytes?: number): void
  /** Erases the bar. */
  done(): void
}

/** One line of progress: `[#####.....]  42%  512 / 1,200 MB  1.3 GB/s  ETA 0:03`. */
export function formatProgress(bytesRead: number, totalBytes: number, elapsedMs: number): string {
  const fraction = totalBytes > 0 ? Math.min(1, bytesRead / totalBytes) : 0
  const filled = Math.round(fraction * BAR_WIDTH)
  const rate = elapsedMs > 0 ? (bytesRead / elapsedMs) * 1000 : 0
  const eta = rate > 0 ? Math.max(0, (totalBytes - bytesRead) / rate) : undefined
  const mb = (bytes: number) => Math.round(bytes / 1e6).toLocaleString('en-US')
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ` +
    `${mb(bytesRead)} / ${mb(totalBytes)} MB  ${formatRate(rate)}  ETA ${eta === undefined ? '--:--' : formatClock(eta)}`
  )
}

function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond >= 1e9 ? `${(bytesPerSecond / 1e9).toFixed(2)} GB/s` : `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`
}

function formatClock(seconds: number): string {
  const s = Math.ceil(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

export function createProgress(stream: NodeJS.WritableStream, options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now())
  const minBytes = options.minBytes ?? PROGRESS_MIN_BYTES
  const started = now()
  let lastDraw = -Infinity
  let drawn = false
  return {
    update(bytesRead, totalBytes) {
      // No total (stdin) or a small file: nothing worth a bar.
      if (!options.enabled || totalBytes === undefined || totalBytes < minBytes) return
      const t = now()
      if (t - lastDraw < REDRAW_MS && bytesRead < totalBytes) return
      lastDraw = t
      drawn = true
      stream.write(`\r${formatProgress(bytesRead, totalBytes, t - started)}\u001b[K`)
    },
    done() {
      if (drawn) stream.write('\r\u001b[K')
      drawn = false
    },
  }
}
