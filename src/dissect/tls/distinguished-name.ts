/**
 * A DER X.501 Name (RFC 5280 §4.1.2.4) rendered as RFC 4514 §2 text: RDNs most-specific first,
 * separated by ',', multi-valued RDNs joined by '+', special characters escaped — the same form
 * analysis/x509 gives CertificateInfo.issuer, so an authority can be compared with an issuer.
 * CertificateRequest carries acceptable CAs as DER Names (RFC 5246 §7.4.4, RFC 8446 §4.2.4);
 * this reads just enough DER for that. Certificates themselves are parsed by
 * analysis/x509 (node-forge), not here.
 */
import {TlsParseError} from './errors.js'
import {latin1} from './grease.js'

/** Short names of the attribute types seen in CA names (RFC 4514 §3, RFC 4519). */
const ATTRIBUTE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
])

interface Tlv {
  tag: number
  start: number
  end: number
}

/** One DER TLV at `pos` within [pos, limit); definite lengths only (DER, X.690 §10.1). */
function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new TlsParseError('truncated', 'DER: header past end', pos)
  const tag = der[pos]!
  let len = der[pos + 1]!
  let start = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 3 || start + n > limit) throw new TlsParseError('bad-length', 'DER: unsupported length form', pos)
    len = 0
    for (let i = 0; i < n; i++) len = (len << 8) | der[start + i]!
    start += n
  }
  if (start + len > limit) throw new TlsParseError('truncated', 'DER: value past end', pos)
  return {tag, start, end: start + len}
}

function oidToString(der: Uint8Array, start: number, end: number): string {
  if (start === end) throw new TlsParseError('bad-length', 'DER: empty OID', start)
  const first = der[start]!
  const parts = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))]
  let v = 0
  for (let i = start + 1; i < end; i++) {
    v = v * 128 + (der[i]! & 0x7f)
    if (!(der[i]! & 0x80)) {
      parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}

function valueToString(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.end)
  switch (tlv.tag) {
    case 0x0c: // UTF8String
      return new TextDecoder().decode(bytes)
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      let s = ''
      for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!)
      return s
    }
    case 0x1c: {
      // UniversalString: UCS-4 big-endian
      let s = ''
      for (let i = 0; i + 3 < bytes.length; i += 4) {
        const cp = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0
        // fromCodePoint throws past U+10FFFF: a hostile name becomes U+FFFD, not a RangeError.
        s += String.fromCodePoint(cp <= 0x10ffff ? cp : 0xfffd)
      }
      return s
    }
    default: // PrintableString, IA5String, T61String, ...: one char per byte
      return latin1(bytes)
  }
}

/** RFC 4514 §2.4 escaping. */
function escapeRdnValue(value: string): string {
  let out = value.replace(/["+,;<>\\]/g, '\\$&').replace(/\0/g, '\\00')
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `
  return out
}

/** Renders a DER Name. Throws TlsParseError on malformed DER. */
export function distinguishedNameToString(der: Uint8Array): string {
  const name = readTlv(der, 0, der.length)
  if (name.tag !== 0x30) throw new TlsParseError('bad-value', 'DER: Name is not a SEQUENCE', 0)
  const rdns: string[] = []
  for (let pos = name.start; pos < name.end; ) {
    const set = readTlv(der, pos, name.end)
    if (set.tag !== 0x31) throw new TlsParseError('bad-value', 'DER: RDN is not a SET', pos)
    const attributes: string[] = []
    for (let p = set.start; p < set.end; ) {
      const atv = readTlv(der, p, set.end)
      const oid = readTlv(der, atv.start, atv.end)
      if (oid.tag !== 0x06) throw new TlsParseError('bad-value', 'DER: attribute type is not an OID', atv.start)
      const value = readTlv(der, oid.end, atv.end)
      const type = oidToString(der, oid.start, oid.end)
      attributes.push(`${ATTRIBUTE_NAMES.get(type) ?? type}=${escapeRdnValue(valueToString(der, value))}`)
      p = atv.end
    }
    rdns.push(attributes.join('+'))
    pos = set.end
  }
  return rdns.reverse().join(',')
}
