/** Long runs of routine events (application data, answered pings) folded into one line. */
import {formatSize, formatSpan} from './format.js'
import type {TimelineEvent} from './events.js'

/** Routine events (data, answered pings) that may be folded into one line. */
function isRoutine(event: TimelineEvent): boolean {
  return event.marks.length === 0 && (event.kind === 'application-data' || event.kind === 'ws-pong' || (event.kind === 'ws-ping' && event.detail === undefined))
}

export function collapseRoutine(events: TimelineEvent[], maxRoutine: number): TimelineEvent[] {
  const out: TimelineEvent[] = []
  for (let i = 0; i < events.length; ) {
    let end = i
    while (end < events.length && isRoutine(events[end])) end++
    if (end - i > maxRoutine) {
      out.push(foldRun(events.slice(i, end)))
      i = end
    } else {
      out.push(events[i])
      i++
    }
  }
  return out
}

function foldRun(run: TimelineEvent[]): TimelineEvent {
  const first = run[0]
  const last = run[run.length - 1]
  const folded = {events: run.length, records: 0, c2sBytes: 0, s2cBytes: 0, pings: 0}
  for (const event of run) {
    folded.records += event.records ?? 0
    if (event.from === 'client') folded.c2sBytes += event.bytes ?? 0
    else folded.s2cBytes += event.bytes ?? 0
    if (event.kind === 'ws-ping') folded.pings++
  }
  const parts = [`${formatSize(folded.c2sBytes)} →, ${formatSize(folded.s2cBytes)} ←`]
  if (folded.pings > 0) parts.push(`${folded.pings} ping${folded.pings === 1 ? '' : 's'} answered`)
  parts.push(`over ${formatSpan(last.ts - first.ts)}`)
  return {
    kind: 'collapsed',
    from: 'both',
    frame: first.frame,
    ts: first.ts,
    ms: first.ms,
    label: `… ${folded.records > 0 ? `${folded.records} records` : `${run.length} events`}`,
    detail: parts.join(', '),
    records: folded.records,
    bytes: folded.c2sBytes + folded.s2cBytes,
    lastFrame: last.lastFrame ?? last.frame,
    lastTs: last.ts,
    folded,
    marks: [],
  }
}
