import {describe, expect, it} from 'vitest'
import {createProgress, formatProgress} from '../../src/cli/progress.js'

/** Collects what the bar writes. */
function sink(): {stream: NodeJS.WritableStream; text: () => string} {
  const chunks: string[] = []
  return {stream: {write: (chunk: string) => chunks.push(chunk) > 0} as unknown as NodeJS.WritableStream, text: () => chunks.join('')}
}

describe('formatProgress', () => {
  it('shows the fraction, MB read of total, rate and time left', () => {
    // 500 MB of 1,000 MB in 1 s: 500 MB/s, 1 s to go.
    expect(formatProgress(500e6, 1000e6, 1000)).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  500 / 1,000 MB  500 MB/s  ETA 0:01`)
    // 1.5 GB/s with 3 GB left: 2 s.
    expect(formatProgress(1.5e9, 4.5e9, 1000)).toBe(`[${'#'.repeat(10)}${'.'.repeat(20)}]  33%  1,500 / 4,500 MB  1.50 GB/s  ETA 0:02`)
  })

  it('has no ETA before any time has passed', () => {
    expect(formatProgress(0, 100e6, 0)).toMatch(/ETA --:--$/)
  })
})

describe('createProgress', () => {
  it('draws on a terminal for a big file, in place, and erases itself when done', () => {
    let t = 0
    const out = sink()
    const progress = createProgress(out.stream, {enabled: true, now: () => t})
    t = 1000
    progress.update(100e6, 200e6)
    t = 1050 // within the redraw interval: skipped
    progress.update(110e6, 200e6)
    t = 2000
    progress.update(200e6, 200e6)
    progress.done()
    const text = out.text()
    expect(text.split('\r').filter((part) => part.startsWith('['))).toHaveLength(2)
    expect(text).toContain(' 50%  100 / 200 MB  100 MB/s  ETA 0:01')
    expect(text.endsWith('\r\u001b[K')).toBe(true)
  })

  it('stays silent when disabled (not a TTY, --json), for small files and for stdin', () => {
    for (const [enabled, total] of [
      [false, 1e9],
      [true, 10e6],
      [true, undefined],
    ] as const) {
      const out = sink()
      const progress = createProgress(out.stream, {enabled, now: () => 5000})
      progress.update(1e6, total)
      progress.done()
      expect(out.text()).toBe('')
    }
  })
})
