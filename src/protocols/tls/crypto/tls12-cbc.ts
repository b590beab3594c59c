/**
 * TLS 1.2 CBC record protection, read side (RFC 5246 §6.2.3.2), as Wireshark decrypts it:
 * GenericBlockCipher records carry an explicit IV per record; by default the MAC is computed
 * over the plaintext and encrypted with it (MAC-then-encrypt, RFC 5246 §6.2.3.1), and when the
 * ServerHello echoed encrypt_then_mac the MAC is computed over IV + ciphertext and sent in clear
 * after it (RFC 7366 §3). Keys come from the key block (RFC 5246 §6.3) of a key log's
 * CLIENT_RANDOM master secret.
 *
 * A reader of a capture is not an oracle for anyone, so the padding and the MAC are checked
 * plainly (no constant-time dance, RFC 5246 §6.2.3.2's note is for the receiving peer): a bad MAC
 * or bad padding is DecryptError 'bad-tag' (the wrong keys, like an AEAD tag that fails).
 */
import {createDecipheriv, createHmac, createSecretKey, timingSafeEqual, type KeyObject} from 'node:crypto'
import type {HashName} from './key-schedule.js'
import {DecryptError, type DecryptedRecord} from './record-protection.js'
import {prf12} from './tls12.js'

export interface Tls12CbcSuite {
  id: number
  cipher: 'aes-128-cbc' | 'aes-256-cbc'
  keyLength: 16 | 32
  /** The record MAC: HMAC-SHA1 for the _SHA suites, HMAC-SHA256/384 for _SHA256/_SHA384 (RFC 5246 §6.2.3.1). */
  mac: 'sha1' | 'sha256' | 'sha384'
  macLength: 20 | 32 | 48
  /** PRF hash: SHA-384 for the _SHA384 suites (RFC 5289 §3.2), SHA-256 for every other one (RFC 5246 §5). */
  hash: HashName
}

const AES_BLOCK = 16

const cbc = (id: number, keyLength: 16 | 32, mac: Tls12CbcSuite['mac']): Tls12CbcSuite => ({
  id,
  cipher: keyLength === 16 ? 'aes-128-cbc' : 'aes-256-cbc',
  keyLength,
  mac,
  macLength: mac === 'sha1' ? 20 : mac === 'sha256' ? 32 : 48,
  hash: mac === 'sha384' ? 'sha384' : 'sha256',
})

/** The AES-CBC suites TLS 1.2 stacks still negotiate (RFC 5246 App. A.5, RFC 4492 §6, RFC 5289 §3.1). */
export const TLS12_CBC_SUITES: ReadonlyMap<number, Tls12CbcSuite> = new Map(
  [
    cbc(0x002f, 16, 'sha1'), // TLS_RSA_WITH_AES_128_CBC_SHA
    cbc(0x0035, 32, 'sha1'), // TLS_RSA_WITH_AES_256_CBC_SHA
    cbc(0x003c, 16, 'sha256'), // TLS_RSA_WITH_AES_128_CBC_SHA256
    cbc(0x003d, 32, 'sha256'), // TLS_RSA_WITH_AES_256_CBC_SHA256
    cbc(0x0033, 16, 'sha1'), // TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    cbc(0x0039, 32, 'sha1'), // TLS_DHE_RSA_WITH_AES_256_CBC_SHA
    cbc(0x0067, 16, 'sha256'), // TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
    cbc(0x006b, 32, 'sha256'), // TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
    cbc(0xc009, 16, 'sha1'), // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    cbc(0xc00a, 32, 'sha1'), // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    cbc(0xc013, 16, 'sha1'), // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    cbc(0xc014, 32, 'sha1'), // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    cbc(0xc023, 16, 'sha256'), // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    cbc(0xc024, 32, 'sha384'), // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
    cbc(0xc027, 16, 'sha256'), // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    cbc(0xc028, 32, 'sha384'), // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
  ].map((suite) => [suite.id, suite]),
)

export interface Tls12CbcWriteKeys {
  macKey: Uint8Array
  key: Uint8Array
}

/**
 * RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random),
 * split as client_write_MAC_key, server_write_MAC_key, client_write_key, server_write_key (the
 * IVs after them are unused in TLS 1.2: each record carries its own, §6.2.3.2).
 */
export function tls12CbcKeyBlock(suite: Tls12CbcSuite, masterSecret: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): {client: Tls12CbcWriteKeys; server: Tls12CbcWriteKeys} {
  const m = suite.macLength
  const k = suite.keyLength
  const block = prf12(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * m + 2 * k)
  return {
    client: {macKey: block.subarray(0, m), key: block.subarray(2 * m, 2 * m + k)},
    server: {macKey: block.subarray(m, 2 * m), key: block.subarray(2 * m + k, 2 * m + 2 * k)},
  }
}

/** RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048. */
const MAX_CIPHERTEXT_LENGTH = 16384 + 2048

/** One direction's TLS 1.2 CBC read state: MAC key, cipher key, sequence number (RFC 5246 §6.1). */
export class Tls12CbcRecordDecryptor {
  readonly #suite: Tls12CbcSuite
  readonly #macKey: KeyObject
  readonly #key: KeyObject
  readonly #encryptThenMac: boolean
  #sequence = 0n
  /** seq_num + type + version + length, the MAC's prefix (RFC 5246 §6.2.3.1). */
  readonly #macHeader = new Uint8Array(13)

  constructor(suite: Tls12CbcSuite, keys: Tls12CbcWriteKeys, encryptThenMac: boolean) {
    this.#suite = suite
    this.#macKey = createSecretKey(keys.macKey)
    this.#key = createSecretKey(keys.key)
    this.#encryptThenMac = encryptThenMac
  }

  /** `header` is the 5-byte record header, `fragment` the record body (IV + ciphertext [+ MAC with encrypt-then-MAC]). */
  decrypt(header: Uint8Array, fragment: Uint8Array): DecryptedRecord {
    const {macLength} = this.#suite
    if (fragment.length > MAX_CIPHERTEXT_LENGTH) throw new DecryptError('too-long', `record of ${fragment.length} bytes exceeds 2^14 + 2048 (RFC 5246 §6.2.3)`)
    let plaintext: Uint8Array
    if (this.#encryptThenMac) {
      // RFC 7366 §3: IV + ciphertext, then MAC(seq_num + type + version + length + IV + ciphertext),
      // length being that of IV + ciphertext. The MAC is checked before anything is decrypted.
      const encrypted = fragment.subarray(0, fragment.length - macLength)
      if (fragment.length < macLength + 2 * AES_BLOCK || encrypted.length % AES_BLOCK !== 0) {
        throw new DecryptError('too-short', `record of ${fragment.length} bytes is not an IV, whole ${AES_BLOCK}-byte blocks and a ${macLength}-byte MAC (RFC 7366 §3)`)
      }
      if (!this.macMatches(header[0]!, header, encrypted, fragment.subarray(encrypted.length))) throw this.badRecord('MAC')
      const unpadded = this.unpad(this.decipher(encrypted))
      if (unpadded === undefined) throw this.badRecord('padding')
      plaintext = unpadded
    } else {
      // RFC 5246 §6.2.3.2: IV + ENC(content + MAC + padding + padding_length).
      if (fragment.length < 2 * AES_BLOCK || fragment.length % AES_BLOCK !== 0) {
        throw new DecryptError('too-short', `record of ${fragment.length} bytes is not an IV and whole ${AES_BLOCK}-byte blocks (RFC 5246 §6.2.3.2)`)
      }
      const unpadded = this.unpad(this.decipher(fragment))
      if (unpadded === undefined || unpadded.length < macLength) throw this.badRecord('padding')
      const contentLength = unpadded.length - macLength
      const content = unpadded.subarray(0, contentLength)
      if (!this.macMatches(header[0]!, header, content, unpadded.subarray(contentLength))) throw this.badRecord('MAC')
      plaintext = content
    }
    this.#sequence++
    return {contentType: header[0]!, plaintext}
  }

  /** Decrypt IV + ciphertext (the IV is the first block), padding left in place. */
  private decipher(encrypted: Uint8Array): Uint8Array {
    const decipher = createDecipheriv(this.#suite.cipher, this.#key, encrypted.subarray(0, AES_BLOCK))
    decipher.setAutoPadding(false)
    const head = decipher.update(encrypted.subarray(AES_BLOCK))
    const tail = decipher.final()
    const out = tail.length === 0 ? head : Buffer.concat([head, tail])
    return new Uint8Array(out.buffer, out.byteOffset, out.length)
  }

  /**
   * RFC 5246 §6.2.3.2: the last byte is padding_length and the padding_length bytes before it
   * all hold that value. The data before the padding, or undefined when the padding is wrong.
   */
  private unpad(decrypted: Uint8Array): Uint8Array | undefined {
    const n = decrypted.length
    const padding = decrypted[n - 1]!
    if (padding + 1 > n) return undefined
    for (let i = n - 1 - padding; i < n - 1; i++) if (decrypted[i] !== padding) return undefined
    return decrypted.subarray(0, n - 1 - padding)
  }

  /** HMAC(MAC_write_key, seq_num + type + version + length + data) == mac (RFC 5246 §6.2.3.1). */
  private macMatches(contentType: number, header: Uint8Array, data: Uint8Array, mac: Uint8Array): boolean {
    const prefix = this.#macHeader
    new DataView(prefix.buffer).setBigUint64(0, this.#sequence)
    prefix[8] = contentType
    prefix[9] = header[1]!
    prefix[10] = header[2]!
    prefix[11] = data.length >> 8
    prefix[12] = data.length & 0xff
    const expected = createHmac(this.#suite.mac, this.#macKey).update(prefix).update(data).digest()
    return mac.length === expected.length && timingSafeEqual(expected, mac)
  }

  private badRecord(what: 'MAC' | 'padding'): DecryptError {
    const mode = this.#encryptThenMac ? 'encrypt-then-MAC' : 'MAC-then-encrypt'
    return new DecryptError('bad-tag', `record ${this.#sequence} did not authenticate under this ${this.#suite.cipher} key (${mode}: wrong ${what})`)
  }
}
