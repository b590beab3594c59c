/**
 * The TLS 1.3 key schedule, record protection, Finished and Transcript-Hash against RFC 8448 §3
 * "Simple 1-RTT Handshake" (TLS_AES_128_GCM_SHA256). Every expected value is printed in the RFC
 * (see rfc8448.ts); records are the RFC's wire bytes, so a wrong nonce, AAD or key fails the GCM tag.
 */
import {createCipheriv, createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {deriveSecret, finishedKey, TLS13_CIPHER_SUITES, trafficKeys} from '../../../../src/protocols/tls/crypto/key-schedule.js'
import {finishedVerifyData, verifyFinished} from '../../../../src/protocols/tls/crypto/finished.js'
import {DecryptError, RecordDecryptor} from '../../../../src/protocols/tls/crypto/record-protection.js'
import {TranscriptHash} from '../../../../src/protocols/tls/crypto/transcript-hash.js'
import * as v from './rfc8448.js'

const AES_128_GCM_SHA256 = TLS13_CIPHER_SUITES.get(0x1301)!
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts))
/** A record's 5-byte header and the rest. */
const split = (record: Uint8Array): [Uint8Array, Uint8Array] => [record.subarray(0, 5), record.subarray(5)]

/** A transcript fed whole messages (type + body), as a connection reader would. */
function transcriptOf(...messages: Uint8Array[]): TranscriptHash {
  const t = new TranscriptHash('sha256')
  for (const m of messages) t.addMessage(m[0]!, m.subarray(4))
  return t
}

function decryptError(fn: () => unknown): DecryptError {
  try {
    fn()
  } catch (err) {
    if (err instanceof DecryptError) return err
    throw err
  }
  throw new Error('expected a DecryptError')
}

describe('key schedule (RFC 8448 §3)', () => {
  it('Derive-Secret(early_secret, "derived", "") — "{server}  derive secret for handshake \\"tls13 derived\\""', () => {
    expect(hex(createHash('sha256').digest())).toBe(hex(v.EMPTY_HASH))
    expect(hex(deriveSecret('sha256', v.EARLY_SECRET, 'derived', v.EMPTY_HASH))).toBe(hex(v.DERIVED_FOR_HANDSHAKE))
  })

  it('handshake traffic secrets from Transcript-Hash(ClientHello, ServerHello)', () => {
    const transcript = transcriptOf(v.CLIENT_HELLO, v.SERVER_HELLO).digest()
    expect(hex(transcript)).toBe(hex(v.HASH_CH_SH))
    expect(hex(deriveSecret('sha256', v.HANDSHAKE_SECRET, 'c hs traffic', transcript))).toBe(hex(v.CLIENT_HANDSHAKE_TRAFFIC_SECRET))
    expect(hex(deriveSecret('sha256', v.HANDSHAKE_SECRET, 's hs traffic', transcript))).toBe(hex(v.SERVER_HANDSHAKE_TRAFFIC_SECRET))
  })

  it('application traffic secrets from the transcript through the server Finished', () => {
    const transcript = transcriptOf(v.CLIENT_HELLO, v.SERVER_HELLO, v.ENCRYPTED_EXTENSIONS, v.CERTIFICATE, v.CERTIFICATE_VERIFY, v.SERVER_FINISHED).digest()
    expect(hex(transcript)).toBe(hex(v.HASH_CH_SERVER_FINISHED))
    expect(hex(deriveSecret('sha256', v.MASTER_SECRET, 'c ap traffic', transcript))).toBe(hex(v.CLIENT_APPLICATION_TRAFFIC_SECRET))
    expect(hex(deriveSecret('sha256', v.MASTER_SECRET, 's ap traffic', transcript))).toBe(hex(v.SERVER_APPLICATION_TRAFFIC_SECRET))
  })

  it('traffic keys and ivs (§7.3) — the four "derive ... traffic keys" steps', () => {
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
      [v.SERVER_HANDSHAKE_TRAFFIC_SECRET, v.SERVER_HANDSHAKE_KEY, v.SERVER_HANDSHAKE_IV],
      [v.CLIENT_HANDSHAKE_TRAFFIC_SECRET, v.CLIENT_HANDSHAKE_KEY, v.CLIENT_HANDSHAKE_IV],
      [v.SERVER_APPLICATION_TRAFFIC_SECRET, v.SERVER_APPLICATION_KEY, v.SERVER_APPLICATION_IV],
      [v.CLIENT_APPLICATION_TRAFFIC_SECRET, v.CLIENT_APPLICATION_KEY, v.CLIENT_APPLICATION_IV],
    ]
    for (const [secret, key, iv] of cases) {
      const derived = trafficKeys(AES_128_GCM_SHA256, secret)
      expect(hex(derived.key)).toBe(hex(key))
      expect(hex(derived.iv)).toBe(hex(iv))
    }
  })

  it('finished_key (§4.4.4) — "calculate finished \\"tls13 finished\\"" expanded', () => {
    expect(hex(finishedKey('sha256', v.SERVER_HANDSHAKE_TRAFFIC_SECRET))).toBe(hex(v.SERVER_FINISHED_KEY))
    expect(hex(finishedKey('sha256', v.CLIENT_HANDSHAKE_TRAFFIC_SECRET))).toBe(hex(v.CLIENT_FINISHED_KEY))
  })
})

describe('record protection (RFC 8448 §3)', () => {
  it('decrypts the server handshake record into EncryptedExtensions, Certificate, CertificateVerify, Finished', () => {
    const decryptor = new RecordDecryptor(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET)
    const [header, ciphertext] = split(v.SERVER_HANDSHAKE_RECORD)
    const {contentType, plaintext} = decryptor.decrypt(header, ciphertext)
    expect(contentType).toBe(22)
    expect(hex(plaintext)).toBe(hex(concat(v.ENCRYPTED_EXTENSIONS, v.CERTIFICATE, v.CERTIFICATE_VERIFY, v.SERVER_FINISHED)))
    expect(plaintext.length).toBe(657)
    expect(decryptor.sequenceNumber).toBe(1)
  })

  it('decrypts the client Finished record under the client handshake secret', () => {
    const decryptor = new RecordDecryptor(0x1301, v.CLIENT_HANDSHAKE_TRAFFIC_SECRET)
    const {contentType, plaintext} = decryptor.decrypt(...split(v.CLIENT_FINISHED_RECORD))
    expect(contentType).toBe(22)
    expect(hex(plaintext)).toBe(hex(v.CLIENT_FINISHED))
  })

  it('server application records: NewSessionTicket at sequence 0, then data at sequence 1 (nonce = iv XOR 1)', () => {
    const decryptor = new RecordDecryptor(AES_128_GCM_SHA256, v.SERVER_APPLICATION_TRAFFIC_SECRET)
    const ticket = decryptor.decrypt(...split(v.NEW_SESSION_TICKET_RECORD))
    expect(ticket.contentType).toBe(22)
    expect(hex(ticket.plaintext)).toBe(hex(v.NEW_SESSION_TICKET))
    const data = decryptor.decrypt(...split(v.SERVER_APPLICATION_RECORD))
    expect(data.contentType).toBe(23)
    expect(hex(data.plaintext)).toBe(hex(v.APPLICATION_PAYLOAD))
    expect(decryptor.sequenceNumber).toBe(2)
  })

  it('client application record', () => {
    const decryptor = new RecordDecryptor(0x1301, v.CLIENT_APPLICATION_TRAFFIC_SECRET)
    const {contentType, plaintext} = decryptor.decrypt(...split(v.CLIENT_APPLICATION_RECORD))
    expect(contentType).toBe(23)
    expect(hex(plaintext)).toBe(hex(v.APPLICATION_PAYLOAD))
  })

  it('a record at the wrong sequence number fails with bad-tag and does not advance the sequence', () => {
    const decryptor = new RecordDecryptor(0x1301, v.SERVER_APPLICATION_TRAFFIC_SECRET)
    expect(decryptError(() => decryptor.decrypt(...split(v.SERVER_APPLICATION_RECORD))).code).toBe('bad-tag')
    expect(decryptor.sequenceNumber).toBe(0)
    // Still usable: the record that belongs at sequence 0 decrypts.
    expect(decryptor.decrypt(...split(v.NEW_SESSION_TICKET_RECORD)).contentType).toBe(22)
  })

  it('a tampered byte, a tampered header (AAD) or the other direction\'s key fail with bad-tag', () => {
    const tampered = v.CLIENT_APPLICATION_RECORD.slice()
    tampered[20]! ^= 1
    expect(decryptError(() => new RecordDecryptor(0x1301, v.CLIENT_APPLICATION_TRAFFIC_SECRET).decrypt(...split(tampered))).code).toBe('bad-tag')
    const [header, ciphertext] = split(v.CLIENT_APPLICATION_RECORD)
    const otherVersion = Uint8Array.of(0x17, 0x03, 0x01, header[3]!, header[4]!)
    expect(decryptError(() => new RecordDecryptor(0x1301, v.CLIENT_APPLICATION_TRAFFIC_SECRET).decrypt(otherVersion, ciphertext)).code).toBe('bad-tag')
    expect(decryptError(() => new RecordDecryptor(0x1301, v.SERVER_APPLICATION_TRAFFIC_SECRET).decrypt(header, ciphertext)).code).toBe('bad-tag')
  })

  it('rejects headers that do not match, short records and unknown suites with typed errors', () => {
    const decryptor = new RecordDecryptor(0x1301, v.CLIENT_APPLICATION_TRAFFIC_SECRET)
    const [header, ciphertext] = split(v.CLIENT_APPLICATION_RECORD)
    expect(decryptError(() => decryptor.decrypt(header, ciphertext.subarray(1))).code).toBe('bad-header')
    expect(decryptError(() => decryptor.decrypt(header.subarray(0, 4), ciphertext)).code).toBe('bad-header')
    expect(decryptError(() => decryptor.decrypt(Uint8Array.of(0x17, 3, 3, 0, 16), new Uint8Array(16))).code).toBe('too-short')
    expect(decryptError(() => decryptor.decrypt(Uint8Array.of(0x17, 3, 3, 0x41, 0x01), new Uint8Array(0x4101))).code).toBe('too-long')
    expect(decryptError(() => new RecordDecryptor(0x1304, v.CLIENT_APPLICATION_TRAFFIC_SECRET)).code).toBe('unsupported-cipher-suite')
    expect(decryptor.sequenceNumber).toBe(0)
  })

  it('rekey(secret) switches keys and restarts the sequence number at 0', () => {
    // The server's handshake key decrypts sequence 0, then the application key takes over.
    const decryptor = new RecordDecryptor(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET)
    decryptor.decrypt(...split(v.SERVER_HANDSHAKE_RECORD))
    decryptor.rekey(v.SERVER_APPLICATION_TRAFFIC_SECRET)
    expect(decryptor.sequenceNumber).toBe(0)
    expect(hex(decryptor.decrypt(...split(v.NEW_SESSION_TICKET_RECORD)).plaintext)).toBe(hex(v.NEW_SESSION_TICKET))
  })
})

describe('TLSInnerPlaintext padding (RFC 8446 §5.4)', () => {
  /** Seal `inner` at sequence 0 with the RFC's client application key and iv (nonce = iv). */
  function seal(inner: Uint8Array): [Uint8Array, Uint8Array] {
    const header = Uint8Array.of(0x17, 0x03, 0x03, (inner.length + 16) >> 8, (inner.length + 16) & 0xff)
    const cipher = createCipheriv('aes-128-gcm', v.CLIENT_APPLICATION_KEY, v.CLIENT_APPLICATION_IV, {authTagLength: 16})
    cipher.setAAD(header)
    const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()])
    return [header, Uint8Array.from(body)]
  }

  it('the sealing helper reproduces the RFC client application record', () => {
    expect(hex(concat(...seal(concat(v.APPLICATION_PAYLOAD, Uint8Array.of(23)))))).toBe(hex(v.CLIENT_APPLICATION_RECORD))
  })

  it('strips zero padding after the content type, keeping zeros inside the content', () => {
    const content = Uint8Array.of(1, 0, 0, 2, 0)
    const {contentType, plaintext} = new RecordDecryptor(0x1301, v.CLIENT_APPLICATION_TRAFFIC_SECRET).decrypt(...seal(concat(content, Uint8Array.of(21), new Uint8Array(40))))
    expect(contentType).toBe(21)
    expect([...plaintext]).toEqual([1, 0, 0, 2, 0])
  })

  it('an all-zero inner plaintext has no content type', () => {
    const decryptor = new RecordDecryptor(0x1301, v.CLIENT_APPLICATION_TRAFFIC_SECRET)
    expect(decryptError(() => decryptor.decrypt(...seal(new Uint8Array(8)))).code).toBe('no-content-type')
  })
})

describe('Finished (RFC 8448 §3, RFC 8446 §4.4.4)', () => {
  const serverTranscript = (): TranscriptHash => transcriptOf(v.CLIENT_HELLO, v.SERVER_HELLO, v.ENCRYPTED_EXTENSIONS, v.CERTIFICATE, v.CERTIFICATE_VERIFY)

  it('server verify_data over ClientHello..CertificateVerify', () => {
    const transcript = serverTranscript().digest()
    expect(hex(finishedVerifyData(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET, transcript))).toBe(hex(v.SERVER_VERIFY_DATA))
    expect(verifyFinished(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET, transcript, v.SERVER_FINISHED.subarray(4))).toBe(true)
  })

  it('client verify_data over ClientHello..server Finished, and the transcript through the client Finished', () => {
    const t = serverTranscript()
    t.addMessage(v.SERVER_FINISHED[0]!, v.SERVER_FINISHED.subarray(4))
    expect(hex(finishedVerifyData(0x1301, v.CLIENT_HANDSHAKE_TRAFFIC_SECRET, t.digest()))).toBe(hex(v.CLIENT_VERIFY_DATA))
    expect(verifyFinished(0x1301, v.CLIENT_HANDSHAKE_TRAFFIC_SECRET, t.digest(), v.CLIENT_FINISHED.subarray(4))).toBe(true)
    t.addMessage(v.CLIENT_FINISHED[0]!, v.CLIENT_FINISHED.subarray(4))
    expect(hex(t.digest())).toBe(hex(v.HASH_CH_CLIENT_FINISHED))
  })

  it('rejects a changed verify_data, the wrong base key, a short value and the wrong transcript', () => {
    const transcript = serverTranscript().digest()
    const wrong = v.SERVER_VERIFY_DATA.slice()
    wrong[31]! ^= 0x80
    expect(verifyFinished(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET, transcript, wrong)).toBe(false)
    expect(verifyFinished(0x1301, v.CLIENT_HANDSHAKE_TRAFFIC_SECRET, transcript, v.SERVER_VERIFY_DATA)).toBe(false)
    expect(verifyFinished(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET, transcript, v.SERVER_VERIFY_DATA.subarray(0, 31))).toBe(false)
    expect(verifyFinished(0x1301, v.SERVER_HANDSHAKE_TRAFFIC_SECRET, v.HASH_CH_SH, v.SERVER_VERIFY_DATA)).toBe(false)
  })

  it('a transcript started before the hash is known gives the same digest once it is set', () => {
    const t = new TranscriptHash()
    t.addMessage(v.CLIENT_HELLO[0]!, v.CLIENT_HELLO.subarray(4))
    expect(() => t.digest()).toThrow(/not set/)
    t.setHash('sha256')
    t.addMessage(v.SERVER_HELLO[0]!, v.SERVER_HELLO.subarray(4))
    expect(hex(t.digest())).toBe(hex(v.HASH_CH_SH))
  })
})
