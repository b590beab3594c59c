/**
 * Named resource limits: what a crafted or enormous capture may make the analysis hold. Each
 * limit, when reached, becomes an Issue on the connection concerned (never an out-of-memory),
 * so memory is bounded by these numbers and not by the size of the input:
 *
 * | limit | reached → | worst-case memory it bounds |
 * |---|---|---|
 * | maxConnections | 'stream.connection-limit' on the least recently active connection, which is finished early | connection state (a few KiB each) × this |
 * | maxHalfOpenConnections | 'stream.half-open-limit' on the least recently active connection that has had no answer to its SYN, which is finished early | the connections a SYN flood opens (~3 KB each) × this |
 * | maxBufferedBytesPerDirection | 'stream.buffer-limit': the hole in front of the buffered bytes becomes a gap | out-of-order TCP bytes held per direction |
 * | maxHandshakeMessageBytes | 'tls.handshake-too-large' naming the message, its length and the limit (TlsFacts.oversizedHandshake; tls.certificate says so): that direction's handshake stops being parsed | one TLS handshake message being reassembled per direction |
 * | maxHttpHeaderBytes | 'http.headers-too-large': the upgrade request/response is not read further | one HTTP header block per direction |
 * | maxReportedConnections | 'report.connection-limit' on the capture: later connections are counted in the summary and verdict, not listed (only where a report is kept whole: JUnit, --html, --json, table --all) | the kept report (~30 KB per listed connection) |
 *
 * | LIST_CAPS (src/lists.ts) | the list keeps its first N items; `truncated: {<list>: omitted}` on the object holding it | every list one connection's input can grow: TCP SYN/SYN-ACK retransmissions, FIN/RST, gaps; TLS ClientHellos, alerts, records, handshake messages; HTTP headers; WebSocket pings; each source's issues; a check's evidence frames; key-log issues |
 *
 * With these, memory is bounded by the open connections (maxConnections) times a constant,
 * whatever one connection carries.
 *
 * The defaults live with the code that enforces each limit; this module names them together
 * for the CLI flags and the documentation.
 */
import {DEFAULT_MAX_REPORTED_CONNECTIONS} from './analysis/analyzer.js'
import {DEFAULT_MAX_HEADER_BYTES} from './dissect/http/upgrade.js'
import {DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES} from './dissect/tls/handshake.js'
import {DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HALF_OPEN} from './stream/tracker.js'

/** The per-connection list caps (fixed, not flags): see src/lists.ts. */
export {LIST_CAPS} from './lists.js'

export interface Limits {
  /** Connections tracked at once (default 100,000). */
  maxConnections: number
  /** Of those, connections whose SYN had no answer yet (default 10,000): a SYN flood's. */
  maxHalfOpenConnections: number
  /**
   * Bytes buffered per direction of a connection while waiting for a missing segment, the
   * buffering that happens before a handshake can complete (default 4 MiB).
   */
  maxBufferedBytesPerDirection: number
  /** Largest TLS handshake message reassembled (default 1 MiB: certificate chains are ~1-10 KiB, a few hundred KiB with thousands of SANs). */
  maxHandshakeMessageBytes: number
  /** Largest HTTP header block of the WebSocket upgrade (default 64 KiB). */
  maxHttpHeaderBytes: number
  /** Connections listed in full in a report kept whole (default 25,000); the rest are counted only. */
  maxReportedConnections: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxHalfOpenConnections: DEFAULT_MAX_HALF_OPEN,
  maxBufferedBytesPerDirection: DEFAULT_MAX_BUFFERED_BYTES,
  maxHandshakeMessageBytes: DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES,
  maxHttpHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxReportedConnections: DEFAULT_MAX_REPORTED_CONNECTIONS,
})
