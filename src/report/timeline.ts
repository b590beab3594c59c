/**
 * The conversation picture of one connection: one event per thing that crossed the wire, in
 * capture order, each with the side that sent it and its time relative to the connection's first
 * packet. Derived from the facts only (never bytes), so the terminal ladder (timeline-text.ts)
 * and the SVG ladder (html-ladder.ts) draw exactly the same events.
 *
 * The events come from TCP's part, a Microperimeter hairpin's (timeline/hairpin.ts), and one part per protocol of the registry (src/protocols/),
 * in timeline/: tcp.ts, proxy.ts (a proxy's request and answer before TLS), tls.ts (with
 * tls-flights.ts), http.ts, websocket.ts. Long routine runs are folded (fold.ts); labels and
 * times are printed by labels.ts.
 */
import {isCaptureFacts, type ConnectionReport} from '../model/report.js'
import {protocolNames} from '../protocols/index.js'
import type {FrameRef, Side} from '../stream/types.js'
import {markFailingSteps} from './timeline-marks.js'
import type {AppEvents, LadderContext, LadderPart, TimelineEvent, TimelineEventKind} from './timeline/events.js'
import {collapseRoutine} from './timeline/fold.js'
import {hairpinLadder} from './timeline/hairpin.js'
import {LADDER_PARTS, tcpLadder} from './timeline/parts.js'

export type {TimelineEvent, TimelineEventKind, TimelineMark} from './timeline/events.js'
export {eventLabel, formatEventTime, serverLaneName, wrapWords} from './timeline/labels.js'

export interface TimelineOptions {
  /** Runs of more routine events than this (application data, answered pings) become one line. Default 6. */
  maxRoutine?: number
}

const DEFAULT_MAX_ROUTINE = 6

/**
 * Every event of a connection in capture order, failing steps marked, long routine runs
 * collapsed. A probe's own facts (no capture) have no frames to draw: no events.
 */
export function buildTimeline(conn: ConnectionReport, options: TimelineOptions = {}): TimelineEvent[] {
  const facts = conn.facts
  if (!isCaptureFacts(facts)) return []
  const origin = facts.tcp.startTs
  // Events are drafted with a rank inside their frame (TCP opening, TLS in record order,
  // HTTP/WebSocket, then FIN/RST: a FIN segment may carry the last data) and sorted once; within
  // a frame and rank, by layer (TCP, then the registry's chain order) and drafting order.
  const layers: LadderPart[] = [tcpLadder, hairpinLadder]
  for (const name of protocolNames()) {
    const part = LADDER_PARTS[name]
    if (part) layers.push(part)
  }
  const drafts: Array<{event: TimelineEvent; rank: number; layer: number}> = []
  let layer = 0
  const add = (rank: number, ref: FrameRef, from: Side | 'both', kind: TimelineEventKind, label: string, extra: Partial<TimelineEvent> = {}) => {
    const event: TimelineEvent = {kind, from, frame: ref.frame, ts: ref.ts, ms: (ref.ts - origin) * 1000, label, ...extra, marks: []}
    drafts.push({rank, layer, event})
    return event
  }
  // What a carrier carries stands for the carrier's records of its frame: the first event drawn
  // there by the outermost carried protocol (HTTP before WebSocket).
  const appEvents: AppEvents = new Map()
  const appLayers = new Map<string, number>()
  const appEvent = (ref: FrameRef, from: Side, kind: TimelineEventKind, label: string, extra: Partial<TimelineEvent> = {}) => {
    const event = add(2, ref, from, kind, label, extra)
    const key = `${ref.frame}:${from}`
    const seen = appLayers.get(key)
    if (seen !== undefined && seen <= layer) return
    appEvents.set(key, event)
    appLayers.set(key, layer)
  }
  const context: LadderContext = {facts, origin, add, appEvents, appEvent}
  // Innermost first: a carrier (TLS) counts its records into the events of what it carries, and
  // TCP draws its plain payload only when nothing above it was read.
  for (layer = layers.length - 1; layer >= 0; layer--) layers[layer].events(context)

  const order = drafts.map((d, i) => ({...d, i}))
  order.sort((a, b) => a.event.frame - b.event.frame || a.rank - b.rank || a.layer - b.layer || a.i - b.i)
  const events = order.map((d) => d.event)
  markFailingSteps(events, conn.checks)
  return collapseRoutine(events, options.maxRoutine ?? DEFAULT_MAX_ROUTINE)
}
