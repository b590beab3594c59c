/**
 * CertificateRequest carries acceptable CAs as DER Names (RFC 5246 §7.4.4, RFC 8446 §4.2.4).
 * They are rendered by protocols/tls/x509, the one RFC 4514 renderer, so an authority reads exactly
 * like CertificateInfo.issuer; a malformed Name is a TlsParseError like any other bad field.
 */
import {distinguishedNameFromDer} from './x509.js'
import {TlsParseError} from './errors.js'

export function distinguishedNameToString(der: Uint8Array): string {
  try {
    return distinguishedNameFromDer(der)
  } catch (error) {
    throw new TlsParseError('bad-value', `DER: malformed distinguished name (${(error as Error).message})`, 0)
  }
}
