/**
 * Certificate handshake messages as lists of DER certificates (views into the message body).
 * TLS 1.2 (RFC 5246 §7.4.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>.
 * TLS 1.3 (RFC 8446 §4.4.2): certificate_request_context<0..2^8-1>, then CertificateEntry
 * {cert_data<1..2^24-1>, extensions<0..2^16-1>} — read only from decrypted records.
 */
import {TlsCursor, TlsParseError} from './errors.js'

export interface CertificateEntry {
  /** DER view into the message body, valid only while the body is. */
  der: Uint8Array
  /** Extension types of the entry (TLS 1.3 only; e.g. status_request 5, SCT 18). */
  extensions: number[]
}

export interface CertificateMessage {
  /** TLS 1.3 certificate_request_context (empty for a server's Certificate); undefined for TLS 1.2. */
  requestContext?: Uint8Array
  entries: CertificateEntry[]
}

function readDer(c: TlsCursor): Uint8Array {
  const at = c.offset
  const der = c.vector(3, 'ASN.1Cert')
  if (der.length === 0) throw new TlsParseError('bad-length', 'empty certificate (ASN.1Cert<1..2^24-1>)', at)
  return der
}

/** TLS 1.2 Certificate body. */
export function parseCertificate12(body: Uint8Array): CertificateMessage {
  const c = new TlsCursor(body)
  const list = c.sub(3, 'certificate_list')
  c.expectEnd('Certificate')
  const entries: CertificateEntry[] = []
  while (list.remaining > 0) entries.push({der: readDer(list), extensions: []})
  return {entries}
}

/** TLS 1.3 Certificate body. */
export function parseCertificate13(body: Uint8Array): CertificateMessage {
  const c = new TlsCursor(body)
  const requestContext = c.vector(1, 'certificate_request_context')
  const list = c.sub(3, 'certificate_list')
  c.expectEnd('Certificate')
  const entries: CertificateEntry[] = []
  while (list.remaining > 0) {
    const der = readDer(list)
    const exts = list.sub(2, 'CertificateEntry extensions')
    const extensions: number[] = []
    while (exts.remaining > 0) {
      extensions.push(exts.u16('extension_type'))
      exts.vector(2, 'extension_data')
    }
    entries.push({der, extensions})
  }
  return {requestContext, entries}
}
