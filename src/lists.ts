/**
 * Per-connection lists that the input can grow, and their caps. Whatever one connection carries
 * (a million alerts, SYN retransmissions, malformed ClientHellos...), each list keeps its first
 * N items and counts the rest, so memory is bounded by the open connections times a constant.
 *
 * The one shape that says so: the object holding capped lists carries
 * `truncated: {<list name>: <items not kept>}` (e.g. `tls.truncated = {alerts: 999936}`),
 * present only once something was left out (schema/report.schema.json `$defs/truncated`).
 *
 * This module imports nothing, so every stage of the pipeline can use it; src/limits.ts names
 * the caps with the other limits.
 */

/** Items left out, by list name. */
export type Truncated = Record<string, number>

/** An object holding capped lists. */
export interface HoldsCappedLists {
  truncated?: Truncated
}

/** The first N items are kept of each of these lists; the rest are counted in `truncated`. */
export const LIST_CAPS = Object.freeze({
  /** tcp.synRetransmissions: a client retrying its SYN (a handful in practice; 1M in a flood). */
  synRetransmissions: 64,
  /** tcp.synAckRetransmissions. */
  synAckRetransmissions: 64,
  /** tcp.fin and tcp.rst: two FINs close a connection; more are retransmissions. */
  flagEvents: 16,
  /** tcp.gaps: holes in the stream. */
  gaps: 1000,
  /** Issues of one source (TCP, proxy preamble, TLS, HTTP, WebSocket) on one connection. */
  issuesPerSource: 100,
  /** tls.clientHellos: two with a HelloRetryRequest (RFC 8446 §4.1.4); more is not TLS as specified. */
  clientHellos: 16,
  /** tls.alerts: one closes a connection (RFC 8446 §6); 64 is ample evidence of anything else. */
  alerts: 64,
  /** tls.records: the raw material for TLS 1.3 inference (flight sizes and timing). */
  records: 256,
  /** tls.handshakeMessages. */
  handshakeMessages: 256,
  /** HTTP upgrade headers per request or response (RFC 6455 §4 needs about ten). */
  httpHeaders: 256,
  /** Frames cited in one check's evidence. */
  evidenceFrames: 32,
  /** Malformed key-log lines kept as issues (the first few are printed, all are counted). */
  keyLogIssues: 100,
  /**
   * A Defender's most recent sessions in the per-Defender view (model/defenders.ts): ~100 bytes
   * each while the capture is read, so 5,000 Defenders hold ~16 MB at most.
   */
  defenderSessions: 32,
  /** hairpin.lost: inner packets sent to the Microperimeter firewall that never came back. */
  hairpinLost: 64,
  /** hairpin.doubled: inner packets encapsulated twice (double inspection). */
  hairpinDoubled: 64,
  /** Hairpin latencies kept for the median (the max and the count cover every hairpin). */
  hairpinLatencies: 1024,
  /**
   * Inner packets of one redirected connection whose copies (to the firewall, back, in clear) are
   * still awaited; past it the oldest is settled early (hairpin.unsettled counts them). A copy
   * returns within milliseconds, so this is the packets of a few milliseconds; at ~150 bytes an
   * entry it bounds a redirected connection's matching state to ~40 KB.
   */
  hairpinPending: 256,
})

/** Pushes `item` if `list` holds fewer than `cap`, else counts it in `owner.truncated[name]`. */
export function pushCapped<T>(owner: HoldsCappedLists, name: string, list: T[], cap: number, item: T): boolean {
  if (list.length < cap) {
    list.push(item)
    return true
  }
  countOmitted(owner, name, 1)
  return false
}

/** Adds `count` left-out items of list `name` to `owner.truncated`. */
export function countOmitted(owner: HoldsCappedLists, name: string, count: number): void {
  if (count <= 0) return
  const truncated = (owner.truncated ??= {})
  truncated[name] = (truncated[name] ?? 0) + count
}

/** How many items list `name` had in all: those kept plus those counted in `owner.truncated`. */
export function countOf(owner: HoldsCappedLists, name: string, list: readonly unknown[]): number {
  return list.length + (owner.truncated?.[name] ?? 0)
}

/**
 * Appends every item of `items` to `target` without a spread: `push(...items)` passes each item
 * as an argument and overflows the stack past ~120k items.
 */
export function appendAll<T>(target: T[], items: readonly T[]): T[] {
  for (let i = 0; i < items.length; i++) target.push(items[i]!)
  return target
}

/** The largest of `values` and `floor` (Math.max(...values) overflows the stack on long lists). */
export function maxOf(values: Iterable<number>, floor = Number.NEGATIVE_INFINITY): number {
  let max = floor
  for (const v of values) if (v > max) max = v
  return max
}

/** The first `cap` of `frames` (a list copied into a check's evidence) and how many were left out. */
export function capFrames(frames: number[], cap: number = LIST_CAPS.evidenceFrames): {frames: number[]; omitted: number} {
  return frames.length <= cap ? {frames, omitted: 0} : {frames: frames.slice(0, cap), omitted: frames.length - cap}
}
