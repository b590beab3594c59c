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
| maxDefenders | `defenders.overflow` counts the Defenders past it (and `overflowConnections` their connections), which are judged one by one but not grouped; the table says so | the per-Defender view (~4 KB per Defender) |
 *
 * | LIST_CAPS (src/lists.ts) | the list keeps its first N items; `truncated: {<list>: omitted}` on the object holding it | every list one connection's input can grow: TCP SYN/SYN-ACK retransmissions, FIN/RST, gaps; TLS ClientHellos, alerts, records, handshake messages; HTTP headers; WebSocket pings; each source's issues; a check's evidence frames; key-log issues; a Microperimeter hairpin's lost and doubled packets, latencies and pending copies |
 *
 * With these, memory is bounded by the open connections (maxConnections) times a constant,
 * whatever one connection carries.
 *
 * The defaults are defined here, once, and the code that enforces each limit imports its own
 * (so this module, at the bottom of the pipeline, imports nothing from above it).
 */
export const DEFAULT_MAX_CONNECTIONS = 100_000
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/**
 * Connections whose client sent a SYN and heard nothing back, held at once. They are the
 * cheapest to forge (a SYN flood: one 60-byte packet each) and each costs the ~3 KB of an open
 * connection, so they get a cap of their own below maxConnections: 1M unanswered SYNs from
 * distinct clients otherwise held 100,000 of them (~800 MiB peak RSS).
 */
export const DEFAULT_MAX_HALF_OPEN = 10_000
/**
 * 1 MiB. Certificate chains are what grows: usually 1-10 KiB, a few hundred KiB for certificates
 * with thousands of SANs (Zeek's tls-fragmented-handshake trace: 340 kB, 10,000 SANs; Go's
 * client accepts up to 256 KiB). TLS itself allows 2^24 - 1 (RFC 8446 §4). The body buffer
 * grows with the bytes that arrive, so a length field alone does not make the reader hold this.
 */
export const DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES = 1024 * 1024
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024
/**
 * Connections listed in full when a report is kept whole (JUnit, --html, --json, table --all;
 * table, JSON and NDJSON output stream instead and list every one). A kept connection costs
 * ~30 KB (bench file (b) as JUnit: 100,000 kept peaked at 2.97 GB, near the default heap limit),
 * so 25,000 stay under ~0.8 GB.
 */
export const DEFAULT_MAX_REPORTED_CONNECTIONS = 25_000
/**
 * Defenders grouped in the per-Defender view (analysis/defenders.ts). Each costs its counters
 * and up to LIST_CAPS.defenderSessions sessions (~4 KB at most), so 10,000 hold ~40 MB; the
 * Defenders past it are counted (`defenders.overflow`) and their connections judged one by one.
 */
export const DEFAULT_MAX_DEFENDERS = 10_000

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
  /** Defenders grouped in the per-Defender view (default 10,000); the rest are counted in `defenders.overflow`. */
  maxDefenders: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxHalfOpenConnections: DEFAULT_MAX_HALF_OPEN,
  maxBufferedBytesPerDirection: DEFAULT_MAX_BUFFERED_BYTES,
  maxHandshakeMessageBytes: DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES,
  maxHttpHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxReportedConnections: DEFAULT_MAX_REPORTED_CONNECTIONS,
  maxDefenders: DEFAULT_MAX_DEFENDERS,
})

/**
 * `certs DIR` (a Defender's certificate directory): a file larger than this is not a certificate
 * or key (a Defender's are a few KiB) and is refused (exit 2) instead of read whole; a CA bundle
 * is read up to this many certificates (the rest are counted, `omittedCertificates`).
 */
export const MAX_CERT_FILE_BYTES = 1024 * 1024
export const MAX_CA_BUNDLE_CERTIFICATES = 100

/**
 * `probe`: the bytes of its own TLS handshake kept in memory to read the Console's
 * CertificateRequest (probe/phases/handshake-tap.ts). A Console's first flight is a few KiB; past
 * this the copy stops and certs.requested-ca says the request could not be read.
 */
export const MAX_PROBE_HANDSHAKE_BYTES = 2 * 1024 * 1024
/**
 * `watch`: sessions kept in its per-Defender history (DefenderReport.sessions, the most recent
 * ones; `truncated.sessions` counts the rest). A flapping channel reconnects every second or
 * so: 86,400 sessions a day, ~300 bytes each, would grow without end; counters, min/max and the
 * endings keep counting every session, the median rests on these last ones.
 */
export const MAX_WATCH_SESSIONS = 200
/**
 * `watch`: largest WebSocket message (frame or reassembled fragments) taken from the Console, ws'
 * maxPayload. ws refuses a longer one from its length field (RFC 6455 §5.2: a 64-bit length may
 * announce 2^63 bytes) with close code 1009 (§7.4.1) before buffering it; ws' own default is
 * 100 MiB, per session. A Console's messages to a Defender are policies and rules: kilobytes.
 */
export const WATCH_MAX_PAYLOAD_BYTES = 1024 * 1024
