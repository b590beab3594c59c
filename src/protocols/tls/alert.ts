/**
 * Plaintext alerts (RFC 8446 §6, RFC 5246 §7.2): level (1 warning, 2 fatal) and description.
 * RFC 8446 §5.1 forbids fragmenting or coalescing alerts, so a plaintext alert record is
 * exactly 2 bytes; TLS 1.2 peers may still coalesce, so each 2-byte pair is one alert.
 */
import {TlsParseError} from './errors.js'
import {ALERT_DESCRIPTIONS} from './iana/alerts.js'
import {nameOf} from './iana/table.js'

export interface Alert {
  level: number
  description: number
  descriptionName: string
}

/** Parses the fragment of an alert record. */
export function parseAlerts(fragment: Uint8Array): Alert[] {
  if (fragment.length === 0 || fragment.length % 2 !== 0) {
    throw new TlsParseError('bad-length', `alert record of ${fragment.length} bytes (alerts are 2 bytes)`, 0)
  }
  const out: Alert[] = []
  for (let i = 0; i < fragment.length; i += 2) {
    const level = fragment[i]!
    const description = fragment[i + 1]!
    out.push({level, description, descriptionName: nameOf(ALERT_DESCRIPTIONS, description)})
  }
  return out
}
