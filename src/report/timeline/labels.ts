/** How the ladders (terminal and SVG) print an event, its time, the server's lane, and wrapped text. */
import {isCaptureFacts, type ConnectionReport} from '../../model/report.js'
import type {TimelineEvent} from './events.js'

/** `0.014`, `1018.4`, `300512`: ms since the connection's first packet, precision by size. */
export function formatEventTime(event: TimelineEvent): string {
  const {ms} = event
  return ms < 1000 ? ms.toFixed(3) : ms < 100_000 ? ms.toFixed(1) : ms.toFixed(0)
}

/**
 * The event's label as the ladders print it: a checked Finished says so, `Finished ✓
 * (verify_data checked)` or `Finished ✗` (ASCII: `ok`, `MISMATCH`).
 */
export function eventLabel(event: TimelineEvent, ascii: boolean): string {
  if (event.verified === undefined) return event.label
  if (event.verified) return `${event.label} ${ascii ? 'ok' : '✓'} (verify_data checked)`
  return `${event.label} ${ascii ? 'MISMATCH' : '✗'}`
}

/** The right-hand lane: the Console, or the proxy the Defender connected to (and through). */
export function serverLaneName(conn: ConnectionReport): string {
  const proxy = isCaptureFacts(conn.facts) ? conn.facts.proxy : undefined
  if (!proxy) return 'Console'
  return proxy.tunnelOpened ? 'Console via proxy' : 'proxy'
}

/** Word wrap to `width` columns; words longer than a line are cut. Empty text → no lines. */
export function wrapWords(s: string, width: number): string[] {
  if (s === '') return []
  const lines: string[] = []
  let line = ''
  for (let word of s.split(' ')) {
    while (word.length > width) {
      if (line !== '') lines.push(line)
      lines.push(word.slice(0, width))
      word = word.slice(width)
      line = ''
    }
    if (line === '') line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== '') lines.push(line)
  return lines
}
