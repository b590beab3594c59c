/**
 * Shared by the three TCP handshake checks: the SYN options as words and values, the client's
 * SYN attempts, and what they need to know beyond the connection itself: when the capture
 * ended. A SYN with no answer means "filtered" only if the capture went on long enough for an
 * answer (or a retransmission) to appear; a capture stopped right after the SYN proves nothing.
 */
import type {ConnectionFacts} from '../model/facts.js'
import type {FrameRef, TcpFacts} from '../stream/types.js'
import {elapsedMs} from '../model/format.js'

/** ConnectionFacts.captureEndTs tells when the whole capture ended; without it the checks judge the facts alone. */
export type TcpCheckFacts = ConnectionFacts

/**
 * A client retransmits an unanswered SYN after its initial retransmission timeout, 1 s
 * (RFC 6298 §2.1, §5.7). A capture that ends sooner than that after the SYN cannot tell
 * "no answer yet" from "dropped".
 */
export const INITIAL_RTO_SECONDS = 1

/** Milliseconds from `since` to the end of the capture when that is under the initial RTO; undefined otherwise or when unknown. */
export function captureEndedWithinRto(facts: TcpCheckFacts, since: FrameRef): number | undefined {
  const end = facts.captureEndTs
  if (end === undefined || end - since.ts >= INITIAL_RTO_SECONDS) return undefined
  return elapsedMs(since.ts, end)
}

/** The client's SYNs in order: the first and its retransmissions. */
export function synAttempts(facts: ConnectionFacts): FrameRef[] {
  return facts.tcp.syn ? [facts.tcp.syn, ...facts.tcp.synRetransmissions] : []
}

type SynOptions = NonNullable<TcpFacts['syn']>

/** The options a SYN or SYN-ACK carried (RFC 9293 §3.2 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK), as words. */
export function describeSynOptions(segment: SynOptions): string {
  let text = ''
  if (segment.mss !== undefined) text = `MSS ${segment.mss}`
  if (segment.windowScale !== undefined) text += `${text === '' ? '' : ', '}window scale ${segment.windowScale}`
  if (segment.sackPermitted) text += `${text === '' ? '' : ', '}SACK permitted`
  if (segment.timestamps) text += `${text === '' ? '' : ', '}timestamps`
  return text === '' ? 'no options' : text
}

/** The same options as evidence values (only those present). */
export function synOptionValues(segment: SynOptions): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  if (segment.mss !== undefined) values.mss = segment.mss
  if (segment.windowScale !== undefined) values.windowScale = segment.windowScale
  if (segment.sackPermitted !== undefined) values.sackPermitted = segment.sackPermitted
  if (segment.timestamps !== undefined) values.timestamps = segment.timestamps
  return values
}
