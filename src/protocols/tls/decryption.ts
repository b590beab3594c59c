/**
 * SessionDecryption: the key-log side of one TLS connection. It looks the session's secrets up by
 * ClientHello.random when the first protected record needs them (so a pcapng Decryption Secrets
 * Block that arrives after the ClientHello still serves), keeps one record decryptor per
 * direction, switches keys where the sender does, and verifies both Finished messages against
 * the running transcript.
 *
 * TLS 1.3 (RFC 8446 §7): handshake traffic secrets after the ServerHello; the sender's
 * application traffic secret after its Finished; the next generation after a KeyUpdate (§4.6.3).
 * TLS 1.2 (RFC 5246 §6.3, §7.4.9): keys from the master secret (CLIENT_RANDOM); AEAD suites, and
 * CBC suites (RFC 5246 §6.2.3.2) with encrypt-then-MAC when the ServerHello echoed it (RFC 7366 §3).
 *
 * A record that does not decrypt (wrong keys) stops decryption of its direction: the connection
 * reader then carries on as if it had no keys, and the failure is an Issue and a fact.
 */
import type {IssueSeverity} from '../../issues.js'
import type {SessionSecrets} from '../../keys/keylog.js'
import type {KeyLookup} from '../../keys/store.js'
import {senderOf, type Direction, type FrameRef, type Side} from '../../stream/types.js'
import {verifyFinished} from './crypto/finished.js'
import {TLS13_CIPHER_SUITES, type HashName} from './crypto/key-schedule.js'
import {DecryptError, RecordDecryptor, type DecryptedRecord} from './crypto/record-protection.js'
import {TLS12_AEAD_SUITES, Tls12RecordDecryptor, tls12KeyBlock, verifyFinished12} from './crypto/tls12.js'
import {TLS12_CBC_SUITES, Tls12CbcRecordDecryptor, tls12CbcKeyBlock} from './crypto/tls12-cbc.js'
import {TranscriptHash} from './crypto/transcript-hash.js'
import {EXT_ENCRYPT_THEN_MAC} from './iana/extension-types.js'
import {HS_CLIENT_HELLO, HS_FINISHED, HS_KEY_UPDATE, HS_SERVER_HELLO} from './iana/handshake-types.js'
import {TLS_1_2, TLS_1_3} from './iana/versions.js'
import type {ServerHello} from './server-hello.js'
import type {TlsDecryptionFacts, VerifiedFinished} from './types.js'

/**
 * Where the secrets come from. KeyStore (src/keys/store.ts) fits: `empty` tells "no key log at
 * all" (keys 'none') from "a key log without this session" (keys 'missing').
 */
export interface SessionKeys extends KeyLookup {
  readonly empty?: boolean
  /** No secret will be added any more (KeyStore.seal): a session without secrets now has none. */
  readonly sealed?: boolean
}

export interface SessionDecryptionEvents {
  issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void
}

interface DirectionKeys {
  decryptor?: RecordDecryptor | Tls12RecordDecryptor | Tls12CbcRecordDecryptor
  /** Decryption of this direction stopped (a failure or a missing secret). */
  stopped: boolean
  /** The sender's Finished was read: what follows is post-handshake, outside the transcript. */
  finished: boolean
  /**
   * The key log lacks the secret the next record needs (an aborted handshake never logs its
   * application secrets): a failure only if such a record comes.
   */
  missingSecret?: string
}

/** The transcript hash: the TLS 1.3 suite's hash, or the TLS 1.2 PRF hash (RFC 5246 §5). */
function transcriptHashOf(version: number, cipherSuite: number): HashName | undefined {
  if (version === TLS_1_3) return TLS13_CIPHER_SUITES.get(cipherSuite)?.hash
  if (version === TLS_1_2) return (TLS12_AEAD_SUITES.get(cipherSuite) ?? TLS12_CBC_SUITES.get(cipherSuite))?.hash
  return undefined
}

const sideOf = (direction: Direction): Side => (direction === 'c2s' ? 'client' : 'server')

export class SessionDecryption {
  /** Set at the first protected record. */
  facts: TlsDecryptionFacts | undefined
  readonly finished: {server?: VerifiedFinished; client?: VerifiedFinished} = {}
  /** undefined: not looked up yet; null: the key log has nothing for this session. */
  private secrets: SessionSecrets | null | undefined
  private clientRandom: string | undefined
  private serverRandom: string | undefined
  private version: number | undefined
  private cipherSuite = 0
  /** The ServerHello echoed encrypt_then_mac: CBC records carry their MAC after the ciphertext (RFC 7366 §3). */
  private encryptThenMac = false
  private transcript: TranscriptHash | undefined
  /** A handshake message the transcript needs was not read (a direction failed before its Finished). */
  private transcriptBroken = false
  private readonly dirs: Record<Direction, DirectionKeys> = {c2s: {stopped: false, finished: false}, s2c: {stopped: false, finished: false}}
  /** The record header, rebuilt per record: it is the AEAD additional data (RFC 8446 §5.2). Made at the first. */
  private header: Uint8Array | undefined = undefined

  constructor(
    private readonly keys: SessionKeys,
    private readonly events: SessionDecryptionEvents,
  ) {}

  /** A plaintext ClientHello: the session's key-log index, and the start of the transcript. */
  clientHello(body: Uint8Array, randomHex: string): void {
    if (this.clientRandom === undefined) {
      this.clientRandom = randomHex
      // The transcript serves only to verify Finished with the session's secrets. When none can
      // come any more (a sealed store without them), it is not kept at all.
      if (this.keys.sealed !== true || this.keys.secretsFor(randomHex) !== undefined) this.transcript = new TranscriptHash()
    }
    this.addToTranscript(HS_CLIENT_HELLO, body)
  }

  /**
   * A plaintext ServerHello or HelloRetryRequest. RFC 8446 §4.4.1: on a HelloRetryRequest the
   * transcript so far (ClientHello1) is replaced by message_hash before the HRR is added.
   */
  serverHello(hello: ServerHello, body: Uint8Array): void {
    const hash = transcriptHashOf(hello.helloRetryRequest ? TLS_1_3 : hello.version, hello.cipherSuite)
    if (hello.helloRetryRequest) {
      if (this.version !== undefined) return
      this.withTranscript((t) => {
        t.setHash(hash!)
        t.helloRetryRequest()
      }, hash)
      this.addToTranscript(HS_SERVER_HELLO, body)
      return
    }
    if (this.version !== undefined) return
    this.version = hello.version
    this.cipherSuite = hello.cipherSuite
    this.serverRandom = hello.random
    this.encryptThenMac = hello.extensions.includes(EXT_ENCRYPT_THEN_MAC)
    this.withTranscript((t) => t.setHash(hash!), hash)
    this.addToTranscript(HS_SERVER_HELLO, body)
  }

  /** Any other plaintext handshake message (TLS 1.2's whole handshake up to ChangeCipherSpec). */
  plaintextHandshake(type: number, body: Uint8Array): void {
    this.addToTranscript(type, body)
  }

  /**
   * Decrypt one protected record of `direction`, or undefined when that direction is not being
   * decrypted (no keys, or an earlier failure). The plaintext is valid only until the next call.
   */
  decrypt(direction: Direction, contentType: number, version: number, fragment: Uint8Array, ref: FrameRef): DecryptedRecord | undefined {
    const dir = this.dirs[direction]
    if (dir.stopped) return undefined
    if (dir.missingSecret !== undefined) {
      this.fail(direction, 'missing-secret', `the key log has no ${dir.missingSecret} for this session`, ref)
      return undefined
    }
    if (dir.decryptor === undefined && !this.start(direction, ref)) return undefined
    const header = (this.header ??= new Uint8Array(5))
    header[0] = contentType
    header[1] = version >> 8
    header[2] = version & 0xff
    header[3] = fragment.length >> 8
    header[4] = fragment.length & 0xff
    try {
      const record = dir.decryptor!.decrypt(header, fragment)
      this.facts!.records++
      return record
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err
      this.fail(direction, err.code, err.message, ref)
      return undefined
    }
  }

  /**
   * Whether decrypt() could use a protected record of `direction`: false once it is known that
   * it cannot (no secrets for this session, or the direction stopped), so the record reader need
   * not copy the bytes of a record that only its length will be taken from. decrypt() is still
   * called (with an empty fragment) so that the facts say why nothing was decrypted.
   */
  mayDecrypt(direction: Direction): boolean {
    if (this.dirs[direction].stopped) return false
    if (this.secrets === null) return false
    if (this.secrets !== undefined || this.clientRandom === undefined) return true
    return this.keys.secretsFor(this.clientRandom) !== undefined
  }

  /** A handshake message read from decrypted records: transcript, Finished, key changes. */
  decryptedHandshake(direction: Direction, type: number, body: Uint8Array, ref: FrameRef): void {
    const dir = this.dirs[direction]
    if (type === HS_FINISHED && !dir.finished) {
      const side = sideOf(direction)
      const verified = this.verify(side, body)
      if (verified !== undefined) {
        this.finished[side] = {frame: ref.frame, ts: ref.ts, verified}
        if (!verified) this.events.issue('tls.finished-mismatch', 'error', `from the ${senderOf(direction)}: the ${side}'s Finished verify_data does not match the handshake transcript`, ref)
      }
      this.addToTranscript(type, body)
      dir.finished = true
      if (this.version === TLS_1_3) this.switchToApplicationSecret(direction)
      return
    }
    if (!dir.finished) {
      this.addToTranscript(type, body)
      return
    }
    // RFC 8446 §4.6.3: records after a KeyUpdate use the next generation of the sender's secret.
    if (type === HS_KEY_UPDATE && dir.decryptor instanceof RecordDecryptor) dir.decryptor.rekey()
  }

  private addToTranscript(type: number, body: Uint8Array): void {
    if (this.dirs.c2s.finished && this.dirs.s2c.finished) return
    this.transcript?.addMessage(type, body)
  }

  /** Run a transcript step that needs the hash; an unknown or conflicting hash ends the transcript. */
  private withTranscript(step: (t: TranscriptHash) => void, hash: HashName | undefined): void {
    if (!this.transcript) return
    if (hash === undefined) {
      this.transcript = undefined
      return
    }
    try {
      step(this.transcript)
    } catch {
      // A ServerHello whose hash differs from the HelloRetryRequest's (RFC 8446 §4.1.4 forbids it).
      this.transcript = undefined
    }
  }

  private start(direction: Direction, ref: FrameRef): boolean {
    if (this.secrets === undefined) {
      this.secrets = (this.clientRandom !== undefined && this.keys.secretsFor(this.clientRandom)) || null
      this.facts = {keys: this.secrets ? 'found' : this.keys.empty === true ? 'none' : 'missing', records: 0, failures: 0}
    }
    const dir = this.dirs[direction]
    if (!this.secrets || this.version === undefined) {
      dir.stopped = true
      return false
    }
    try {
      dir.decryptor = this.version === TLS_1_3 ? this.tls13Decryptor(this.secrets, direction) : this.tls12Decryptor(this.secrets, direction)
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err
      this.fail(direction, err.code, err.message, ref)
      return false
    }
    if (dir.decryptor === undefined) {
      const wanted = this.version === TLS_1_3 ? `${direction === 'c2s' ? 'CLIENT' : 'SERVER'}_HANDSHAKE_TRAFFIC_SECRET` : 'CLIENT_RANDOM (master secret)'
      this.fail(direction, 'missing-secret', `the key log has no ${wanted} for this session`, ref)
      return false
    }
    return true
  }

  private tls13Decryptor(secrets: SessionSecrets, direction: Direction): RecordDecryptor | undefined {
    const secret = direction === 'c2s' ? secrets.clientHandshakeTrafficSecret : secrets.serverHandshakeTrafficSecret
    return secret && new RecordDecryptor(this.cipherSuite, secret)
  }

  private tls12Decryptor(secrets: SessionSecrets, direction: Direction): Tls12RecordDecryptor | Tls12CbcRecordDecryptor | undefined {
    const master = secrets.masterSecret
    if (!master || this.clientRandom === undefined || this.serverRandom === undefined) return undefined
    // TLS 1.0/1.1 derive keys with the MD5/SHA-1 PRF (RFC 4346 §5) and TLS 1.0 chains CBC IVs.
    if (this.version !== TLS_1_2) throw new DecryptError('unsupported-version', `version 0x${this.version!.toString(16).padStart(4, '0')} records are not decrypted (TLS 1.2 and 1.3 only)`)
    const clientRandom = Buffer.from(this.clientRandom, 'hex')
    const serverRandom = Buffer.from(this.serverRandom, 'hex')
    const aead = TLS12_AEAD_SUITES.get(this.cipherSuite)
    if (aead) {
      const block = tls12KeyBlock(aead, master, clientRandom, serverRandom)
      return new Tls12RecordDecryptor(aead, direction === 'c2s' ? block.client : block.server)
    }
    const cbc = TLS12_CBC_SUITES.get(this.cipherSuite)
    if (cbc) {
      const block = tls12CbcKeyBlock(cbc, master, clientRandom, serverRandom)
      return new Tls12CbcRecordDecryptor(cbc, direction === 'c2s' ? block.client : block.server, this.encryptThenMac)
    }
    throw new DecryptError('unsupported-cipher-suite', `cipher suite 0x${this.cipherSuite.toString(16).padStart(4, '0')} is not a TLS 1.2 AEAD or AES-CBC suite this tool can decrypt`)
  }

  /** RFC 8446 §7.1: after its Finished the sender protects with [sender]_application_traffic_secret_0. */
  private switchToApplicationSecret(direction: Direction): void {
    const dir = this.dirs[direction]
    if (!(dir.decryptor instanceof RecordDecryptor) || !this.secrets) return
    const secret = direction === 'c2s' ? this.secrets.clientTrafficSecret0 : this.secrets.serverTrafficSecret0
    if (secret) {
      dir.decryptor.rekey(secret)
    } else {
      dir.decryptor = undefined
      dir.missingSecret = `${direction === 'c2s' ? 'CLIENT' : 'SERVER'}_TRAFFIC_SECRET_0`
    }
  }

  /** Whether `verifyData` is right, or undefined when it cannot be checked (transcript not whole). */
  private verify(side: Side, verifyData: Uint8Array): boolean | undefined {
    const transcript = this.transcript
    if (!transcript?.hash || this.transcriptBroken || !this.secrets) return undefined
    if (this.version === TLS_1_3) {
      const baseKey = side === 'client' ? this.secrets.clientHandshakeTrafficSecret : this.secrets.serverHandshakeTrafficSecret
      return baseKey && verifyFinished(this.cipherSuite, baseKey, transcript.digest(), verifyData)
    }
    const master = this.secrets.masterSecret
    return master && verifyFinished12(transcript.hash, master, side, transcript.digest(), verifyData)
  }

  private fail(direction: Direction, code: string, message: string, ref: FrameRef): void {
    const facts = (this.facts ??= {keys: 'found', records: 0, failures: 0})
    facts.failures++
    facts.firstFailure ??= {frame: ref.frame, code}
    const dir = this.dirs[direction]
    dir.stopped = true
    dir.decryptor = undefined
    dir.missingSecret = undefined
    if (!dir.finished) this.transcriptBroken = true
    this.events.issue('tls.decrypt-failed', 'warn', `from the ${senderOf(direction)}: cannot decrypt the record in frame ${ref.frame} (${code}): ${message}; the rest of this direction is read without keys`, ref)
  }
}
