/**
 * A ClientHello's JA3 and JA4 (ja3.ts, ja4.ts), remembered by content: on a Console-side
 * capture most connections come from the same Defender build and send hellos that differ only
 * in their random, session id and key shares, which no fingerprint reads. Building the
 * fingerprint strings (hex lists, sorting, joining, hashing) costs ~10 µs a hello; finding the
 * same hello again costs one pass over its lists. The match is exact (every field a fingerprint
 * reads is compared), never a hash alone.
 */
import type {ClientHello} from './client-hello.js'
import {ja3} from './ja3.js'
import {ja4} from './ja4.js'

export interface ClientHelloFingerprints {
  ja3: string
  ja3Hash: string
  ja4: string
  ja4r: string
}

/** Distinct hellos remembered; past it the memory starts over (a capture of many client builds). */
const MAX_REMEMBERED = 1024

interface Remembered {
  hello: ClientHello
  fingerprints: ClientHelloFingerprints
}

const remembered = new Map<number, Remembered>()

export function clientHelloFingerprints(hello: ClientHello): ClientHelloFingerprints {
  const key = fingerprintKey(hello)
  const known = remembered.get(key)
  if (known !== undefined && sameFingerprintInputs(known.hello, hello)) return known.fingerprints
  const fingerprints: ClientHelloFingerprints = {...ja3(hello), ...ja4(hello, 't')}
  if (remembered.size >= MAX_REMEMBERED) remembered.clear()
  // Only the lists are kept, not the hello (its random and key shares are of no use here).
  remembered.set(key, {hello: fingerprintInputs(hello), fingerprints})
  return fingerprints
}

/** The fields JA3 and JA4 read (ja3.ts, ja4.ts). */
function fingerprintInputs(hello: ClientHello): ClientHello {
  return {
    legacyVersion: hello.legacyVersion,
    cipherSuites: hello.cipherSuites,
    extensions: hello.extensions,
    supportedGroups: hello.supportedGroups,
    ecPointFormats: hello.ecPointFormats,
    supportedVersions: hello.supportedVersions,
    signatureAlgorithms: hello.signatureAlgorithms,
    alpn: hello.alpn === undefined ? undefined : hello.alpn.slice(0, 1),
  } as ClientHello
}

function sameFingerprintInputs(a: ClientHello, b: ClientHello): boolean {
  return (
    a.legacyVersion === b.legacyVersion &&
    sameList(a.cipherSuites, b.cipherSuites) &&
    sameList(a.extensions, b.extensions) &&
    sameList(a.supportedGroups, b.supportedGroups) &&
    sameList(a.ecPointFormats, b.ecPointFormats) &&
    sameList(a.supportedVersions, b.supportedVersions) &&
    sameList(a.signatureAlgorithms, b.signatureAlgorithms) &&
    (a.alpn === undefined) === (b.alpn === undefined) &&
    a.alpn?.[0] === b.alpn?.[0]
  )
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** FNV-1a over the lists' values: picks the slot; sameFingerprintInputs decides. */
function fingerprintKey(hello: ClientHello): number {
  let h = 0x811c9dc5 ^ hello.legacyVersion
  const mix = (list: readonly number[] | undefined) => {
    h = Math.imul(h ^ (list === undefined ? 0xffff : list.length), 0x01000193)
    if (list !== undefined) for (const v of list) h = Math.imul(h ^ v, 0x01000193)
  }
  mix(hello.cipherSuites)
  mix(hello.extensions)
  mix(hello.supportedGroups)
  mix(hello.signatureAlgorithms)
  mix(hello.supportedVersions)
  return h >>> 0
}
