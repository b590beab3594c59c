/**
 * JA3 and JA3S (Salesforce, github.com/salesforce/ja3): decimal values joined by '-', fields by
 * ','; GREASE values (RFC 8701) are left out; the fingerprint is the MD5 of the string.
 *   JA3  = SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
 *   JA3S = SSLVersion,Cipher,Extensions
 * SSLVersion is the hello's legacy_version, not the negotiated version.
 */
import {md5Hex} from './fingerprint-hash.js'
import {isGrease} from './grease.js'
import type {ClientHello} from './client-hello.js'
import type {ServerHello} from './server-hello.js'

function joinNonGrease(values: readonly number[] | undefined): string {
  if (!values) return ''
  let s = ''
  for (const v of values) {
    if (isGrease(v)) continue
    s += s === '' ? String(v) : '-' + v
  }
  return s
}

function md5(s: string): string {
  return md5Hex(s)
}

export function ja3(hello: ClientHello): {ja3: string; ja3Hash: string} {
  const s = [
    hello.legacyVersion,
    joinNonGrease(hello.cipherSuites),
    joinNonGrease(hello.extensions),
    joinNonGrease(hello.supportedGroups),
    (hello.ecPointFormats ?? []).join('-'),
  ].join(',')
  return {ja3: s, ja3Hash: md5(s)}
}

export function ja3s(hello: ServerHello): {ja3s: string; ja3sHash: string} {
  const s = [hello.legacyVersion, hello.cipherSuite, joinNonGrease(hello.extensions)].join(',')
  return {ja3s: s, ja3sHash: md5(s)}
}
