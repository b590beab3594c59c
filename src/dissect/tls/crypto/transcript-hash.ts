/**
 * Transcript-Hash (RFC 8446 §4.4.1): the running hash of the handshake messages (each with its
 * 4-byte header), in the order sent, both directions interleaved, excluding records that are not
 * handshake messages (ChangeCipherSpec, alerts) and, for the secrets, 0-RTT data.
 *
 * The hash is chosen by the cipher suite in the (first) ServerHello or HelloRetryRequest, after
 * the ClientHello was sent. Messages are kept (copied) and hashed only when a digest is first
 * asked for: a session whose secrets never turn up (most of a capture without a key log) costs
 * two copies and no hashing, and keys that arrive later (a Decryption Secrets Block after the
 * ClientHello) still find the whole transcript.
 */
import {createHash, type Hash} from 'node:crypto'
import type {HashName} from './key-schedule.js'

/** HandshakeType message_hash (RFC 8446 §4): the synthetic message that replaces ClientHello1. */
export const HS_MESSAGE_HASH = 254

export class TranscriptHash {
  #hashName: HashName | undefined
  #hash: Hash | undefined
  /** Messages not hashed yet (header + body copies): all of them until a digest is asked for. */
  #pending: Uint8Array[] = []

  constructor(hash?: HashName) {
    if (hash) this.setHash(hash)
  }

  get hash(): HashName | undefined {
    return this.#hashName
  }

  /** Fix the hash (from the negotiated cipher suite); hashing waits for the first digest. */
  setHash(hash: HashName): void {
    if (this.#hashName !== undefined) {
      if (this.#hashName !== hash) throw new Error(`transcript hash already ${this.#hashName}, cannot switch to ${hash}`)
      return
    }
    this.#hashName = hash
  }

  /** Add one handshake message given as type and body (the 4-byte header is rebuilt). */
  addMessage(type: number, body: Uint8Array): void {
    const header = Uint8Array.of(type, (body.length >>> 16) & 0xff, (body.length >>> 8) & 0xff, body.length & 0xff)
    if (this.#hash) {
      this.#hash.update(header).update(body)
    } else {
      this.#pending.push(header, body.slice())
    }
  }

  /**
   * Call when a HelloRetryRequest arrives, after ClientHello1 was added and before the HRR is
   * (RFC 8446 §4.4.1): the transcript so far, Hash(ClientHello1), is replaced by the synthetic
   * message_hash message `fe 00 00 Hash.length || Hash(ClientHello1)`. The hash must be set.
   */
  helloRetryRequest(): void {
    const hashName = this.requireHash()
    const clientHello1 = this.#live().digest()
    this.#hash = createHash(hashName)
    this.addMessage(HS_MESSAGE_HASH, clientHello1)
  }

  /** Transcript-Hash of the messages added so far; adding more afterwards is allowed. */
  digest(): Uint8Array {
    return this.#live().copy().digest()
  }

  /** The running hash, fed what was held so far. */
  #live(): Hash {
    if (this.#hash === undefined) {
      this.#hash = createHash(this.requireHash())
      for (const bytes of this.#pending) this.#hash.update(bytes)
      this.#pending = []
    }
    return this.#hash
  }

  private requireHash(): HashName {
    if (this.#hashName === undefined) throw new Error('transcript hash algorithm not set yet (no ServerHello)')
    return this.#hashName
  }
}
