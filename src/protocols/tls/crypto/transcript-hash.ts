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
  /**
   * Messages not hashed yet, header and body, copied end to end into one buffer (grown by
   * doubling): all of them until a digest is asked for. One allocation per session, not two
   * typed arrays per message.
   */
  #pending: Uint8Array | undefined
  #pendingLength = 0

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
    if (this.#hash) {
      this.#hash.update(Uint8Array.of(type, (body.length >>> 16) & 0xff, (body.length >>> 8) & 0xff, body.length & 0xff)).update(body)
      return
    }
    const need = this.#pendingLength + 4 + body.length
    if (this.#pending === undefined || this.#pending.length < need) {
      const grown = new Uint8Array(Math.max(need, 2 * (this.#pending?.length ?? 256)))
      if (this.#pending !== undefined) grown.set(this.#pending.subarray(0, this.#pendingLength))
      this.#pending = grown
    }
    const at = this.#pendingLength
    const pending = this.#pending
    pending[at] = type
    pending[at + 1] = (body.length >>> 16) & 0xff
    pending[at + 2] = (body.length >>> 8) & 0xff
    pending[at + 3] = body.length & 0xff
    pending.set(body, at + 4)
    this.#pendingLength = need
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
      if (this.#pending !== undefined) this.#hash.update(this.#pending.subarray(0, this.#pendingLength))
      this.#pending = undefined
      this.#pendingLength = 0
    }
    return this.#hash
  }

  private requireHash(): HashName {
    if (this.#hashName === undefined) throw new Error('transcript hash algorithm not set yet (no ServerHello)')
    return this.#hashName
  }
}
