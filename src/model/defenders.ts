/**
 * The view across connections and time: one DefenderReport per Defender (DESIGN.md, "analysis/
 * … the views across connections: per Defender"). Built from a capture's connections by
 * analysis/ (grouped by client address, refined by the client certificate's subject when
 * visible and the SNI), or from the sessions `watch` holds itself (probe/watch/). Renderers
 * (report/) write it; the `channel.stability` check (checks/channel-stability.ts) judges it.
 *
 * Memory is bounded by the number of Defenders (Limits.maxDefenders), never by connections: a
 * Defender keeps counters, running min/max and a capped list of its most recent sessions.
 */
import type {HoldsCappedLists} from '../lists.js'
import type {CheckId, CheckResult, Confidence, ConnectionVerdict} from './checks.js'
import type {StabilityThresholds} from './policy.js'

/**
 * Who ended a session, as far as the wire shows it. `path`: an RST (or FIN) that came from
 * something between the two ends (inferred, e.g. its TTL differs from the side it claims).
 * `open`: still open when the capture (or the watch) ended.
 */
export type SessionEndedBy = 'client' | 'server' | 'path' | 'open' | 'unknown'

/**
 * How a session ended. `fin`/`rst`: TCP; `ws-close`: a WebSocket Close frame (RFC 6455 §5.5.1,
 * readable with keys or in the probe); `tls-alert`: a fatal alert; `ping-timeout`: watch's ping
 * went unanswered; `capture-end`: still open at the end; `refused`: the handshake never completed.
 */
export type SessionEndReason = 'fin' | 'rst' | 'ws-close' | 'tls-alert' | 'ping-timeout' | 'capture-end' | 'refused' | 'error' | 'unknown'

/** One attempt to connect and, when it got through, the session it held. */
export interface DefenderSession {
  /** The connection id in the report (capture), or the session's number (watch). */
  connection: number
  startedAt: string
  endedAt: string
  /** endedAt - startedAt, in seconds. */
  durationSeconds: number
  /** TCP, TLS and the 101 upgrade completed (or, without keys, application data flowed both ways after the handshake). */
  established: boolean
  /** Seconds with no payload in either direction before the end, when known. */
  idleBeforeEndSeconds?: number
  end: {
    reason: SessionEndReason
    by: SessionEndedBy
    confidence: Confidence
    /** WebSocket close code (RFC 6455 §7.4), when one was read. */
    wsCloseCode?: number
    /** Frame number of the FIN/RST/close that ended it (capture only). */
    frame?: number
  }
  /** The connection's verdict and the checks that failed on it. */
  verdict: ConnectionVerdict
  failedChecks: CheckId[]
}

/** How a Defender is told apart from the others. */
export interface DefenderIdentity {
  /** The key the view groups by: the client address, plus the certificate subject when visible. */
  key: string
  clientIp: string
  /** Client certificate subject (decrypted TLS 1.2, the probe, or watch), when visible. */
  certificateSubject?: string
  /** sha256:HEX of the client certificate, when visible. */
  certificateFingerprint?: string
  /** SNI the Defender sent. */
  sni?: string
}

/** min / median / max of a set of durations, in seconds, and how many values they rest on. */
export interface DurationStats {
  count: number
  min: number
  median: number
  max: number
  /**
   * Present when the median rests on fewer values than `count`: the most recent sessions kept
   * (LIST_CAPS.defenderSessions); min and max are over all of them.
   */
  medianOf?: number
}

/** A reconnect storm: more attempts than StabilityThresholds.stormAttempts within stormWindowSeconds. */
export interface ReconnectStorm {
  /** Attempts from the start of the first window that broke the threshold to the last attempt in a window that did. */
  attempts: number
  from: string
  to: string
  seconds: number
}

/** The Defenders a cross-Defender finding names (duplicate identities). */
export interface DefenderPeer {
  key: string
  clientIp: string
  certificateSubject?: string
}

export interface DefenderReport extends HoldsCappedLists {
  identity: DefenderIdentity
  /** Connection attempts seen from this Defender. */
  connections: number
  firstSeen: string
  lastSeen: string
  /** End of the last handshake that completed (TCP + TLS + upgrade), if any. */
  lastGoodHandshake?: string
  /** Checks that failed on this Defender's connections, and on how many. */
  failedChecks: Array<{id: CheckId; count: number}>
  /** Attempts after the first (connections - 1). */
  reconnects: number
  /** Lifetimes of the established sessions that ended (not those still open at the end). */
  sessionLifetime?: DurationStats
  /** Seconds from a session's end to the Defender's next attempt. */
  reconnectGap?: DurationStats
  /** How sessions ended: one entry per (by, reason) seen, with its count. */
  endings: Array<{by: SessionEndedBy; reason: SessionEndReason; count: number}>
  /** The most recent sessions (the last LIST_CAPS.defenderSessions; `truncated.sessions` counts the rest). */
  sessions: DefenderSession[]
  /** `channel.stability` (and any later per-Defender check). */
  checks: CheckResult[]
  /** Worst status among the Defender's own checks and its connections' verdicts. */
  verdict: ConnectionVerdict
  /**
   * The interval at which the client pings its held sessions, when known: watch's
   * --ping-interval, or in a capture the shortest interval between two pings from one side of a
   * session, when pings were read (keys or cleartext). An idle timeout shorter than it cuts every session.
   */
  pingIntervalSeconds?: number
  /** Most established sessions open at once (among the sessions kept), when more than one: one Defender holds one channel. */
  concurrentSessions?: number
  /** The reconnect storm seen, if any (over every attempt, not only the sessions kept). */
  storm?: ReconnectStorm
  /** When the capture (or watch) ended: how long a Defender has been silent is judged against it. */
  observedUntil?: string
  /** Other Defenders seen from the same client address with another client certificate. */
  sameAddress?: DefenderPeer[]
  /** Other client addresses that presented the same client certificate while this one was connected. */
  sameCertificate?: DefenderPeer[]
}

/** The per-Defender view of a report. */
export interface DefenderView {
  defenders: DefenderReport[]
  /** Defenders beyond Limits.maxDefenders, counted but not tracked (their connections are still judged one by one). */
  overflow: number
  limit: number
  /** Connections of the Defenders counted in `overflow` (judged one by one, not grouped). */
  overflowConnections?: number
  /** The thresholds channel.stability judged by (Policy.stability, or the defaults). */
  thresholds?: StabilityThresholds
}
