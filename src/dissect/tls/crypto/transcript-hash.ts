/**
 * Transcript-Hash (RFC 8446 §4.4.1): the running hash of the handshake messages (each with its
 * 4-byte header), in the order sent, both directions interleaved, excluding records that are not
 * handshake messages (ChangeCipherSpec, alerts) and, for the secrets, 0-RTT data.
 *
 * The hash is chosen by the cipher suite in the (first) ServerHello or HelloRetryRequest, after
 * the ClientHello was sent: messages added before `setHash` are kept (copied) and hashed then.
 */
import {createHash, type Hash} from 'node:crypto'
import type {HashName} from './key-schedule.js'

/** HandshakeType message_hash (RFC 8446 §4): the synthetic message that replaces ClientHello1. */
export const HS_MESSAGE_HASH = 254

export class TranscriptHash {
  #hashName: HashName | undefined
  #hash: Hash | undefined
  /** Messages added before the hash was known (header + body copies). */
  #pending: Uint8Array[] = []

  constructor(hash?: HashName) {
    if (hash) this.setHash(hash)
  }

  get hash(): HashName | undefined {
    return this.#hashName
  }

  /** Fix the hash (from the negotiated cipher suite) and hash what was held so far. */
  setHash(hash: HashName): void {
    if (this.#hashName !== undefined) {
      if (this.#hashName !== hash) throw new Error(`transcript hash already ${this.#hashName}, cannot switch to ${hash}`)
      return
    }
    this.#hashName = hash
    this.#hash = createHash(hash)
    for (const bytes of this.#pending) this.#hash.update(bytes)
    this.#pending = []
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
    const clientHello1 = this.#hash!.digest()
    this.#hash = createHash(hashName)
    this.addMessage(HS_MESSAGE_HASH, clientHello1)
  }

  /** Transcript-Hash of the messages added so far; adding more afterwards is allowed. */
  digest(): Uint8Array {
    this.requireHash()
    return this.#hash!.copy().digest()
  }

  private requireHash(): HashName {
    if (this.#hashName === undefined) throw new Error('transcript hash algorithm not set yet (no ServerHello)')
    return this.#hashName
  }
}
