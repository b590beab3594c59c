/**
 * The ladder's event model: one event per thing that crossed the wire, with the side that sent it
 * and its time relative to the connection's first packet, and what the per-protocol parts
 * (tcp.ts and one file per registered protocol, see parts.ts) are given to draft them.
 */
import type {CheckId} from '../../model/checks.js'
import type {ConnectionFacts} from '../../model/facts.js'
import type {FrameRef, Side} from '../../stream/types.js'

export type TimelineEventKind =
  | 'syn'
  | 'syn-ack'
  | 'ack'
  | 'rst'
  | 'fin'
  /** Bytes the capture never saw (a TCP gap). */
  | 'gap'
  /** The proxy preamble: HTTP CONNECT or the SOCKS request, and the proxy's answer. */
  | 'proxy-request'
  | 'proxy-response'
  | 'client-hello'
  | 'hello-retry-request'
  | 'server-hello'
  /** Any other handshake message: plaintext (TLS 1.2), decrypted (TLS 1.3 with keys) or TLS 1.2's encrypted Finished. */
  | 'handshake'
  | 'change-cipher-spec'
  /** TLS 1.3 without keys: a side's encrypted handshake records, one event. */
  | 'encrypted-flight'
  | 'alert'
  /** An alert that could not be read (encrypted), or a TLS 1.3 record of exactly an alert's size. */
  | 'encrypted-alert'
  | 'application-data'
  /** The stream did not parse as TLS. */
  | 'not-tls'
  | 'http-request'
  | 'http-response'
  | 'ws-ping'
  | 'ws-pong'
  | 'ws-close'
  /** A run of routine events (application data, answered pings) shown as one line. */
  | 'collapsed'
  /** A Microperimeter hairpin (facts.hairpin): the legs every packet took, a note at the first packet. */
  | 'hairpin'
  /** A packet sent to the Microperimeter firewall that never came back. */
  | 'hairpin-lost'
  /** A packet encapsulated twice (double inspection). */
  | 'hairpin-doubled'
  /** From here on, packets travelled in clear only. */
  | 'redirect-stopped'

/** A failing (or warning) check drawn at the step it is about. */
export interface TimelineMark {
  checkId: CheckId
  status: 'fail' | 'warn'
  summary: string
  hint?: string
}

export interface TimelineEvent {
  kind: TimelineEventKind
  /** Who sent it; 'both' only for a collapsed run. */
  from: Side | 'both'
  /** The frame that carried it (the first one, for flights and runs). */
  frame: number
  ts: number
  /** Milliseconds since the connection's first packet (tcp.startTs). */
  ms: number
  /** What it is, short: `SYN`, `ClientHello`, `Certificate`, `encrypted flight`. */
  label: string
  /** Its particulars: `SNI console.test, TLS 1.3/1.2`, `5 records, 1,552 B`. */
  detail?: string
  /** A retransmitted SYN or SYN-ACK. */
  retransmission?: boolean
  /** Read from decrypted records (keys given). */
  decrypted?: boolean
  /** Finished verify_data checked: true ✓, false ✗; absent when not checked. */
  verified?: boolean
  /**
   * Records and record bytes (TLS events: the protected records read into this event, with keys),
   * or payload bytes (application data without TLS).
   */
  records?: number
  bytes?: number
  /** Last frame of a flight or a collapsed run. */
  lastFrame?: number
  lastTs?: number
  /** Collapsed runs: events folded in, and the bytes each way. */
  folded?: {events: number; records: number; c2sBytes: number; s2cBytes: number; pings: number}
  marks: TimelineMark[]
}

/**
 * Drafts one event. `rank` orders events inside their frame (TCP opening 0; gaps, the proxy, TLS
 * and plain data 1; what TLS carries, HTTP and WebSocket, 2; FIN/RST 3: a FIN segment may carry
 * the last data).
 */
export type Add = (rank: number, ref: FrameRef, from: Side | 'both', kind: TimelineEventKind, label: string, extra?: Partial<TimelineEvent>) => TimelineEvent

/** The first HTTP or WebSocket event drawn at a frame, by `frame:side`. */
export type AppEvents = Map<string, TimelineEvent>

/** What a part drafts its events from. */
export interface LadderContext {
  facts: ConnectionFacts
  /** tcp.startTs: event times are relative to it. */
  origin: number
  add: Add
  /**
   * Events of the protocols a carrier carries (HTTP and WebSocket in TLS application data) stand
   * for the carrier's records of their frame: the first one drawn there, by `frame:side`. The
   * carrier (TLS) counts its records into them instead of drawing them.
   */
  appEvents: AppEvents
  /** Drafts an event that stands for its carrier's records (rank 2), see appEvents. */
  appEvent(ref: FrameRef, from: Side, kind: TimelineEventKind, label: string, extra?: Partial<TimelineEvent>): void
}

/** One protocol's share of the ladder: its facts as events. */
export interface LadderPart {
  events(context: LadderContext): void
}
