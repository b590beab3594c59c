/**
 * JA4 TLS client fingerprint and its raw form JA4_r (FoxIO, BSD-3-Clause; spec:
 * github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md). Only JA4 itself: the other
 * JA4+ fingerprints are under a non-commercial licence and deliberately not implemented.
 *
 *   a = protocol ('t' TLS over TCP) + version + 'd'|'i' (SNI present or not)
 *       + cipher count + extension count (GREASE excluded, capped at 99) + ALPN first/last char
 *   b = sha256(sorted cipher hex list)[:12]
 *   c = sha256(sorted extension hex list without SNI/ALPN + '_' + signature algorithms in
 *       original order)[:12]
 * GREASE values are ignored everywhere. An empty list hashes to '000000000000'.
 */
import {hex4, sha256Hex} from './fingerprint-hash.js'
import {isGrease} from './grease.js'
import {EXT_ALPN, EXT_SERVER_NAME, EXT_SUPPORTED_VERSIONS} from './iana/extension-types.js'
import type {ClientHello} from './client-hello.js'

const JA4_VERSIONS: ReadonlyMap<number, string> = new Map([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
])

const EMPTY_HASH = '000000000000'

function hash12(s: string): string {
  return sha256Hex(s).slice(0, 12)
}

function twoDigits(n: number): string {
  return String(Math.min(n, 99)).padStart(2, '0')
}

function isAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
}

/**
 * First and last characters of the first ALPN value ("00" when none or empty). When either
 * end byte is not ASCII alphanumeric, the first and last characters of the value's hex
 * representation are used instead (JA4.md, "ALPN Extension Value") — except that a value whose
 * first byte is not ASCII at all (above 0x7f) gives "99", as FoxIO's reference implementation
 * (python/ja4.py, `if ord(alpn[0]) > 127: alpn = '99'`) does: that implementation produced the
 * public conformance corpus (tls-non-ascii-alpn.pcapng, ALPN 0xba 0xad → "99"), and
 * fingerprints exist to be compared with other tools' output.
 */
export function ja4Alpn(first: string | undefined): string {
  if (first === undefined || first.length === 0) return '00'
  const a = first.charCodeAt(0)
  if (a > 0x7f) return '99'
  const z = first.charCodeAt(first.length - 1)
  if (isAlphanumeric(a) && isAlphanumeric(z)) return first[0]! + first[first.length - 1]!
  return (a >> 4).toString(16) + (z & 0x0f).toString(16)
}

/** JA4 version: highest non-GREASE supported_versions entry when the extension is present, else legacy_version. */
function ja4Version(hello: ClientHello): string {
  let version = hello.legacyVersion
  if (hello.extensions.includes(EXT_SUPPORTED_VERSIONS) && hello.supportedVersions) {
    let best = -1
    for (const v of hello.supportedVersions) if (!isGrease(v) && v > best) best = v
    if (best >= 0) version = best
  }
  return JA4_VERSIONS.get(version) ?? '00'
}

export function ja4(hello: ClientHello, protocol: 't' | 'q' | 'd' = 't'): {ja4: string; ja4r: string} {
  const ciphers = hello.cipherSuites.filter((v) => !isGrease(v))
  const extensions = hello.extensions.filter((v) => !isGrease(v))
  const sni = extensions.includes(EXT_SERVER_NAME) ? 'd' : 'i'
  const a = protocol + ja4Version(hello) + sni + twoDigits(ciphers.length) + twoDigits(extensions.length) + ja4Alpn(hello.alpn?.[0])

  const cipherList = ciphers.map(hex4).sort().join(',')
  const extensionList = extensions
    .filter((v) => v !== EXT_SERVER_NAME && v !== EXT_ALPN)
    .map(hex4)
    .sort()
    .join(',')
  const sigs = (hello.signatureAlgorithms ?? []).filter((v) => !isGrease(v)).map(hex4).join(',')
  const c = sigs === '' ? extensionList : extensionList + '_' + sigs

  const b = cipherList === '' ? EMPTY_HASH : hash12(cipherList)
  const cHash = extensionList === '' ? EMPTY_HASH : hash12(c)
  return {ja4: `${a}_${b}_${cHash}`, ja4r: `${a}_${cipherList}_${c}`}
}
