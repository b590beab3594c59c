/**
 * TLS 1.2 AEAD record protection, read side, from a key log's CLIENT_RANDOM master secret:
 * the PRF (RFC 5246 §5), the key block (§6.3), AES-GCM records (RFC 5288 §3) and
 * ChaCha20-Poly1305 records (RFC 7905 §2), and Finished verify_data (§7.4.9). The CBC suites'
 * records (MAC-then-encrypt or encrypt-then-MAC) are in tls12-cbc.ts.
 *
 * Failures are DecryptErrors with the codes record-protection.ts uses.
 */
import {createDecipheriv, createHmac, createSecretKey, timingSafeEqual, type KeyObject} from 'node:crypto'
import type {AeadName, HashName} from './key-schedule.js'
import {DecryptError, type DecryptedRecord} from './record-protection.js'

export interface Tls12AeadSuite {
  id: number
  aead: AeadName
  /** PRF hash: SHA-384 for the _SHA384 suites, SHA-256 otherwise (RFC 5246 §5, RFC 5289 §3.2). */
  hash: HashName
  keyLength: number
  /** Implicit IV from the key block: 4-byte salt for GCM (RFC 5288 §3), 12 bytes for ChaCha20 (RFC 7905 §2). */
  fixedIvLength: number
  /** Explicit per-record nonce before the ciphertext: 8 for GCM, none for ChaCha20. */
  explicitNonceLength: number
}

const gcm = (id: number, keyLength: 16 | 32, hash: HashName): Tls12AeadSuite => ({
  id,
  aead: keyLength === 16 ? 'aes-128-gcm' : 'aes-256-gcm',
  hash,
  keyLength,
  fixedIvLength: 4,
  explicitNonceLength: 8,
})
const chacha = (id: number): Tls12AeadSuite => ({id, aead: 'chacha20-poly1305', hash: 'sha256', keyLength: 32, fixedIvLength: 12, explicitNonceLength: 0})

/** The TLS 1.2 AEAD suites mainstream stacks negotiate (RFC 5288, RFC 5289, RFC 7905). */
export const TLS12_AEAD_SUITES: ReadonlyMap<number, Tls12AeadSuite> = new Map(
  [
    gcm(0x009c, 16, 'sha256'), // TLS_RSA_WITH_AES_128_GCM_SHA256
    gcm(0x009d, 32, 'sha384'), // TLS_RSA_WITH_AES_256_GCM_SHA384
    gcm(0x009e, 16, 'sha256'), // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    gcm(0x009f, 32, 'sha384'), // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
    gcm(0xc02b, 16, 'sha256'), // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    gcm(0xc02c, 32, 'sha384'), // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    gcm(0xc02f, 16, 'sha256'), // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    gcm(0xc030, 32, 'sha384'), // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    chacha(0xcca8), // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    chacha(0xcca9), // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    chacha(0xccaa), // TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
  ].map((suite) => [suite.id, suite]),
)

/** PRF(secret, label, seed) = P_<hash>(secret, label + seed), first `length` bytes (RFC 5246 §5). */
export function prf12(hash: HashName, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed])
  const out = new Uint8Array(length)
  let a: Uint8Array = labelSeed // A(0)
  for (let filled = 0; filled < length; ) {
    a = createHmac(hash, secret).update(a).digest() // A(i) = HMAC(secret, A(i-1))
    const block = createHmac(hash, secret).update(a).update(labelSeed).digest()
    out.set(block.subarray(0, Math.min(block.length, length - filled)), filled)
    filled += block.length
  }
  return out
}

export interface Tls12WriteKeys {
  key: Uint8Array
  iv: Uint8Array
}

/**
 * RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random),
 * split as client/server MAC keys (none for AEAD), client/server write keys, client/server IVs.
 */
export function tls12KeyBlock(suite: Tls12AeadSuite, masterSecret: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): {client: Tls12WriteKeys; server: Tls12WriteKeys} {
  const {keyLength: k, fixedIvLength: v} = suite
  const block = prf12(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * k + 2 * v)
  return {
    client: {key: block.subarray(0, k), iv: block.subarray(2 * k, 2 * k + v)},
    server: {key: block.subarray(k, 2 * k), iv: block.subarray(2 * k + v, 2 * k + 2 * v)},
  }
}

const TAG_LENGTH = 16

/** One direction's TLS 1.2 AEAD read state: write key, implicit IV, sequence number (RFC 5246 §6.1). */
export class Tls12RecordDecryptor {
  readonly #suite: Tls12AeadSuite
  readonly #key: KeyObject
  readonly #iv: Uint8Array
  #sequence = 0n
  readonly #nonce = new Uint8Array(12)
  readonly #aad = new Uint8Array(13)

  constructor(suite: Tls12AeadSuite, keys: Tls12WriteKeys) {
    this.#suite = suite
    this.#key = createSecretKey(keys.key)
    this.#iv = keys.iv.slice()
  }

  /** `header` is the 5-byte record header, `fragment` the record body (explicit nonce + ciphertext + tag). */
  decrypt(header: Uint8Array, fragment: Uint8Array): DecryptedRecord {
    const suite = this.#suite
    const overhead = suite.explicitNonceLength + TAG_LENGTH
    if (fragment.length < overhead) throw new DecryptError('too-short', `record of ${fragment.length} bytes cannot hold the ${overhead}-byte nonce and tag`)
    const nonce = this.#nonce
    if (suite.explicitNonceLength > 0) {
      // RFC 5288 §3: nonce = salt (4, from the key block) || explicit nonce (8, from the record).
      nonce.set(this.#iv)
      nonce.set(fragment.subarray(0, 8), 4)
    } else {
      // RFC 7905 §2: nonce = IV XOR the 64-bit sequence number, left-padded.
      nonce.set(this.#iv)
      let seq = this.#sequence
      for (let i = 11; i >= 4; i--) {
        nonce[i]! ^= Number(seq & 0xffn)
        seq >>= 8n
      }
    }
    const body = fragment.subarray(suite.explicitNonceLength, fragment.length - TAG_LENGTH)
    // RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length (of the plaintext).
    const aad = this.#aad
    new DataView(aad.buffer).setBigUint64(0, this.#sequence)
    aad[8] = header[0]!
    aad[9] = header[1]!
    aad[10] = header[2]!
    aad[11] = body.length >> 8
    aad[12] = body.length & 0xff
    let plaintext: Buffer
    try {
      const decipher =
        suite.aead === 'chacha20-poly1305'
          ? createDecipheriv(suite.aead, this.#key, nonce, {authTagLength: TAG_LENGTH})
          : createDecipheriv(suite.aead, this.#key, nonce, {authTagLength: TAG_LENGTH})
      decipher.setAAD(aad, {plaintextLength: body.length})
      decipher.setAuthTag(fragment.subarray(fragment.length - TAG_LENGTH))
      const head = decipher.update(body)
      const tail = decipher.final()
      plaintext = tail.length === 0 ? head : Buffer.concat([head, tail])
    } catch {
      throw new DecryptError('bad-tag', `record ${this.#sequence} did not authenticate under this ${suite.aead} key`)
    }
    this.#sequence++
    return {contentType: header[0]!, plaintext: new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length)}
  }
}

const FINISHED_LENGTH = 12

/** RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]. */
export function verifyFinished12(hash: HashName, masterSecret: Uint8Array, sender: 'client' | 'server', transcriptHash: Uint8Array, verifyData: Uint8Array): boolean {
  const expected = prf12(hash, masterSecret, `${sender} finished`, transcriptHash, FINISHED_LENGTH)
  return verifyData.length === FINISHED_LENGTH && timingSafeEqual(expected, verifyData)
}
