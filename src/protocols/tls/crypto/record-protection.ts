/**
 * TLS 1.3 record protection, read side, one direction (RFC 8446 §5.2-5.4). A RecordDecryptor
 * holds one traffic secret's key and iv and the record sequence number; the connection reader
 * owns one per direction and swaps its secret at each key change (handshake → application,
 * KeyUpdate).
 *
 * Failures are DecryptErrors with a stable code, never raw node:crypto exceptions. A record that
 * fails does not advance the sequence number: the caller may try the same record under another
 * key (a server skipping rejected 0-RTT data does exactly that, RFC 8446 §4.2.10).
 */
import {createDecipheriv, createSecretKey, type KeyObject} from 'node:crypto'
import {nextTrafficSecret, TLS13_CIPHER_SUITES, trafficKeys, type Tls13CipherSuite} from './key-schedule.js'

/** RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256. */
const MAX_CIPHERTEXT_LENGTH = 16384 + 256
/** RFC 8446 §5.4: TLSInnerPlaintext (content + type + padding) MUST NOT exceed 2^14 + 1. */
const MAX_INNER_PLAINTEXT_LENGTH = 16384 + 1
const TAG_LENGTH = 16
const HEADER_LENGTH = 5

export type DecryptErrorCode =
  | 'unsupported-cipher-suite' // not one of TLS13_CIPHER_SUITES
  | 'unsupported-version' // TLS 1.0/1.1 records (their PRF and CBC IVs differ): not decrypted
  | 'bad-header' // header is not 5 bytes or its length field does not match the ciphertext
  | 'too-short' // shorter than the AEAD tag plus the content type byte
  | 'too-long' // ciphertext or inner plaintext over the RFC 8446 §5.2/§5.4 limits
  | 'bad-tag' // authentication failed (AEAD tag, or a TLS 1.2 CBC record's MAC or padding): wrong key, wrong sequence number, or corrupted record
  | 'no-content-type' // the plaintext is all zeros: no content type (RFC 8446 §5.4)

export class DecryptError extends Error {
  override readonly name = 'DecryptError'
  constructor(
    readonly code: DecryptErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface DecryptedRecord {
  /** TLSInnerPlaintext.type: the real content type (22 handshake, 21 alert, 23 application_data). */
  contentType: number
  /** The content, padding and type byte removed. Owned by the caller (a fresh buffer per record). */
  plaintext: Uint8Array
}

/** Resolve a cipher suite code point, or throw DecryptError('unsupported-cipher-suite'). */
export function requireTls13CipherSuite(cipherSuite: number | Tls13CipherSuite): Tls13CipherSuite {
  if (typeof cipherSuite !== 'number') return cipherSuite
  const found = TLS13_CIPHER_SUITES.get(cipherSuite)
  if (!found) {
    throw new DecryptError('unsupported-cipher-suite', `cipher suite 0x${cipherSuite.toString(16).padStart(4, '0')} is not a TLS 1.3 suite this tool can decrypt`)
  }
  return found
}

export class RecordDecryptor {
  readonly cipherSuite: Tls13CipherSuite
  #secret!: Uint8Array
  #key!: KeyObject
  #iv!: Uint8Array
  #sequence = 0
  /** Reused per record: createDecipheriv copies the nonce it is given. */
  readonly #nonce = new Uint8Array(12)

  constructor(cipherSuite: number | Tls13CipherSuite, trafficSecret: Uint8Array) {
    this.cipherSuite = requireTls13CipherSuite(cipherSuite)
    this.install(trafficSecret)
  }

  /** Sequence number of the next record (RFC 8446 §5.3): records decrypted under the current key. */
  get sequenceNumber(): number {
    return this.#sequence
  }

  /**
   * Switch to a new traffic secret and restart the sequence number at 0 (RFC 8446 §5.3). Without
   * an argument, moves to the next generation of the current secret as a KeyUpdate requires
   * (RFC 8446 §7.2, "traffic upd").
   */
  rekey(nextSecret: Uint8Array = nextTrafficSecret(this.cipherSuite, this.#secret)): void {
    this.install(nextSecret)
  }

  /**
   * Decrypt one TLSCiphertext (RFC 8446 §5.2): `header` is the 5-byte record header, which is
   * also the AEAD additional data; `ciphertext` is encrypted_record (content + tag).
   */
  decrypt(header: Uint8Array, ciphertext: Uint8Array): DecryptedRecord {
    if (header.length !== HEADER_LENGTH || ((header[3]! << 8) | header[4]!) !== ciphertext.length) {
      throw new DecryptError('bad-header', `record header ${Buffer.from(header).toString('hex')} does not describe ${ciphertext.length} bytes of ciphertext`)
    }
    if (ciphertext.length > MAX_CIPHERTEXT_LENGTH) {
      throw new DecryptError('too-long', `ciphertext of ${ciphertext.length} bytes exceeds 2^14 + 256 (RFC 8446 §5.2)`)
    }
    if (ciphertext.length < TAG_LENGTH + 1) {
      throw new DecryptError('too-short', `ciphertext of ${ciphertext.length} bytes cannot hold a ${TAG_LENGTH}-byte tag and a content type`)
    }
    this.setNonce()
    const body = ciphertext.subarray(0, ciphertext.length - TAG_LENGTH)
    let inner: Buffer
    try {
      const aead = this.cipherSuite.aead
      // Two branches only so each call matches its typed overload (GCM / ChaCha20-Poly1305).
      const decipher =
        aead === 'chacha20-poly1305'
          ? createDecipheriv(aead, this.#key, this.#nonce, {authTagLength: TAG_LENGTH})
          : createDecipheriv(aead, this.#key, this.#nonce, {authTagLength: TAG_LENGTH})
      decipher.setAAD(header, {plaintextLength: body.length})
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_LENGTH))
      const head = decipher.update(body)
      const tail = decipher.final()
      inner = tail.length === 0 ? head : Buffer.concat([head, tail])
    } catch {
      throw new DecryptError('bad-tag', `record ${this.#sequence} did not authenticate under this ${this.cipherSuite.name} key`)
    }
    if (inner.length > MAX_INNER_PLAINTEXT_LENGTH) {
      throw new DecryptError('too-long', `inner plaintext of ${inner.length} bytes exceeds 2^14 + 1 (RFC 8446 §5.4)`)
    }
    // RFC 8446 §5.4: the content type is the last non-zero byte; zeros after it are padding.
    let end = inner.length - 1
    while (end >= 0 && inner[end] === 0) end--
    if (end < 0) throw new DecryptError('no-content-type', `record ${this.#sequence} is all padding: no content type (RFC 8446 §5.4)`)
    this.#sequence++
    const plaintext = new Uint8Array(inner.buffer, inner.byteOffset, end)
    return {contentType: inner[end]!, plaintext}
  }

  private install(secret: Uint8Array): void {
    const {key, iv} = trafficKeys(this.cipherSuite, secret)
    this.#secret = secret
    this.#key = createSecretKey(key)
    this.#iv = iv
    this.#sequence = 0
  }

  /** RFC 8446 §5.3: nonce = iv XOR the 64-bit sequence number, left-padded to iv length. */
  private setNonce(): void {
    const nonce = this.#nonce
    nonce.set(this.#iv)
    let seq = this.#sequence
    for (let i = nonce.length - 1; i >= nonce.length - 8 && seq > 0; i--) {
      nonce[i] ^= seq % 256
      seq = Math.floor(seq / 256)
    }
  }
}
