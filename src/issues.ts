/**
 * Issues: things wrong with the input that are data, not crashes. A malformed packet, a gap in
 * a stream, an oversized TLS record — each becomes an Issue on the connection (or the capture).
 */
export type IssueSeverity = 'info' | 'warn' | 'error'

export interface Issue {
  /** Stable machine-readable code, e.g. 'tcp.gap', 'ip.truncated', 'tls.record-too-large'. */
  code: string
  severity: IssueSeverity
  message: string
  /** Frame number where it was seen, when there is one. */
  frame?: number
}
