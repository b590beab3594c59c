/**
 * Finished verification (RFC 8446 §4.4.4): verify_data = HMAC(finished_key,
 * Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*)), where finished_key is
 * derived from the sender's handshake traffic secret (the BaseKey).
 */
import {createHmac, timingSafeEqual} from 'node:crypto'
import {finishedKey, type Tls13CipherSuite} from './key-schedule.js'
import {requireTls13CipherSuite} from './record-protection.js'

/** The verify_data a sender with this BaseKey must put in its Finished. */
export function finishedVerifyData(cipherSuite: number | Tls13CipherSuite, baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  const {hash} = requireTls13CipherSuite(cipherSuite)
  return createHmac(hash, finishedKey(hash, baseKey)).update(transcriptHash).digest()
}

/**
 * Does `verifyData` (the Finished body) match? `transcriptHash` covers every handshake message
 * before this Finished. A length mismatch is simply false.
 */
export function verifyFinished(cipherSuite: number | Tls13CipherSuite, baseKey: Uint8Array, transcriptHash: Uint8Array, verifyData: Uint8Array): boolean {
  const expected = finishedVerifyData(cipherSuite, baseKey, transcriptHash)
  return expected.length === verifyData.length && timingSafeEqual(expected, verifyData)
}
