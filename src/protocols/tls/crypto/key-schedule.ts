/**
 * The TLS 1.3 key schedule pieces a passive decryptor needs (RFC 8446 §7): HKDF-Expand-Label,
 * Derive-Secret, traffic key/iv derivation, the Finished key and the KeyUpdate successor of an
 * application traffic secret. The secrets themselves come from a key log (src/keys): nothing here
 * runs a key exchange, so HKDF-Extract is never needed.
 */
import {createHmac} from 'node:crypto'

export type HashName = 'sha256' | 'sha384'
/** node:crypto cipher names of the three AEADs TLS 1.3 record protection uses. */
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'

/** A TLS 1.3 cipher suite: AEAD and HKDF hash (RFC 8446 §B.4). */
export interface Tls13CipherSuite {
  id: number
  name: string
  aead: AeadName
  hash: HashName
  /** Hash.length: size of every secret and of verify_data. */
  hashLength: number
  /** AEAD key length in bytes. */
  keyLength: number
  /** Per-record nonce length: 12 for all three AEADs (RFC 8446 §5.3: max(8, N_MIN) = 12). */
  ivLength: number
}

/** Output length of the hash: the size of every TLS 1.3 secret under it. */
export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48
}

const suite = (id: number, name: string, aead: AeadName, hash: HashName, keyLength: number): Tls13CipherSuite => ({
  id,
  name,
  aead,
  hash,
  hashLength: hashLength(hash),
  keyLength,
  ivLength: 12,
})

/**
 * The suites node:crypto can decrypt. TLS_AES_128_CCM_SHA256 (0x1304) and _CCM_8_ (0x1305) are
 * left out: no mainstream TLS 1.3 stack enables them by default.
 */
export const TLS13_CIPHER_SUITES: ReadonlyMap<number, Tls13CipherSuite> = new Map([
  [0x1301, suite(0x1301, 'TLS_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', 16)],
  [0x1302, suite(0x1302, 'TLS_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', 32)],
  [0x1303, suite(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256', 32)],
])

/** HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i), output = first L bytes. */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * hashLength(hash)) throw new RangeError(`HKDF-Expand: ${length} bytes exceeds 255 * HashLen`)
  const out = new Uint8Array(length)
  let previous: Uint8Array = new Uint8Array(0)
  for (let filled = 0, counter = 1; filled < length; counter++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Uint8Array.of(counter)).digest()
    out.set(previous.subarray(0, Math.min(previous.length, length - filled)), filled)
    filled += previous.length
  }
  return out
}

const LABEL_PREFIX = 'tls13 '

/**
 * HKDF-Expand-Label (RFC 8446 §7.1): info is the HkdfLabel struct
 * {uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>}.
 */
export function hkdfExpandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLabel = Buffer.from(LABEL_PREFIX + label, 'latin1')
  if (fullLabel.length > 255 || context.length > 255) throw new RangeError('HKDF-Expand-Label: label or context longer than 255 bytes')
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length)
  info[0] = length >> 8
  info[1] = length & 0xff
  info[2] = fullLabel.length
  info.set(fullLabel, 3)
  info[3 + fullLabel.length] = context.length
  info.set(context, 4 + fullLabel.length)
  return hkdfExpand(hash, secret, info, length)
}

/**
 * Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1), given Transcript-Hash(Messages) already
 * computed (see TranscriptHash): HKDF-Expand-Label(Secret, Label, transcriptHash, Hash.length).
 */
export function deriveSecret(hash: HashName, secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, transcriptHash.length)
}

export interface TrafficKeys {
  key: Uint8Array
  iv: Uint8Array
}

/** RFC 8446 §7.3: [sender]_write_key and [sender]_write_iv from a traffic secret. */
export function trafficKeys(cipherSuite: Tls13CipherSuite, trafficSecret: Uint8Array): TrafficKeys {
  const empty = new Uint8Array(0)
  return {
    key: hkdfExpandLabel(cipherSuite.hash, trafficSecret, 'key', empty, cipherSuite.keyLength),
    iv: hkdfExpandLabel(cipherSuite.hash, trafficSecret, 'iv', empty, cipherSuite.ivLength),
  }
}

/** RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length). */
export function finishedKey(hash: HashName, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, baseKey, 'finished', new Uint8Array(0), hashLength(hash))
}

/**
 * RFC 8446 §7.2: after a KeyUpdate, application_traffic_secret_N+1 =
 * HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length).
 */
export function nextTrafficSecret(cipherSuite: Tls13CipherSuite, trafficSecret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(cipherSuite.hash, trafficSecret, 'traffic upd', new Uint8Array(0), cipherSuite.hashLength)
}
