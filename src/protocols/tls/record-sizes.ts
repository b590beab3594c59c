/**
 * Sizes of TLS 1.3 protected records that carry a known message, which is what lets analysis
 * judge a TLS 1.3 handshake and a WebSocket upgrade without keys (DESIGN.md "What can be seen on
 * the wire"). Read by analysis/derive.ts and quoted by the checks' summaries.
 */
import type {TlsRecordRef} from './types.js'

/*
 * TLS 1.3 without keys (RFC 8446 §5.2): every record after ServerHello is an application_data
 * record whose length is the inner plaintext + 1 content-type byte + the AEAD tag. Some messages
 * have a fixed size, which is what makes the inference possible:
 *   Finished       = 4-byte header + Hash.length verify_data (32 for SHA-256 suites, 48 for SHA-384)
 *   empty client Certificate = 4 + 1 (context length 0) + 3 (empty list) = 8
 *   alert          = 2
 * and a TLS 1.3 client MUST answer a CertificateRequest with a Certificate message, empty when it
 * has none (§4.4.2), before its Finished. So the client's first encrypted record says whether it
 * was asked and what it sent.
 */

const TLS_AES_256_GCM_SHA384 = 0x1302
const TLS_AES_128_CCM_8_SHA256 = 0x1305
const FINISHED_HEADER = 4
const EMPTY_CERTIFICATE = 8
const ALERT = 2

/** Encrypted record lengths of fixed-size TLS 1.3 messages under the connection's cipher suite. */
export interface Tls13RecordSizes {
  finished: number
  emptyCertificate: number
  alert: number
}

export function tls13RecordSizes(cipherSuite: number | undefined): Tls13RecordSizes {
  const tag = cipherSuite === TLS_AES_128_CCM_8_SHA256 ? 8 : 16
  const hash = cipherSuite === TLS_AES_256_GCM_SHA384 ? 48 : 32
  return {finished: FINISHED_HEADER + hash + 1 + tag, emptyCertificate: EMPTY_CERTIFICATE + 1 + tag, alert: ALERT + 1 + tag}
}

/*
 * TLS 1.3 without keys (RFC 8446 §5.2): a protected record is the inner plaintext + 1 content-type
 * byte + a 16-byte AEAD tag (8 for CCM_8), so sizes tell what a record can be.
 *
 * The upgrade request (RFC 6455 §4.1) needs at least: "GET / HTTP/1.1" (16 with CRLF), Host (>= 9),
 * "Upgrade: websocket" (20), "Connection: Upgrade" (21), Sec-WebSocket-Key with its 24-character
 * nonce (45), "Sec-WebSocket-Version: 13" (27) and the empty line (2): 140 bytes, so a record of at
 * least 140 + 17 = 157 bytes. Measured in fixtures/wss: node `ws` 182, Python websockets 10.4 223.
 * The upper bound is generous (cookies, authorization headers, a long path): past it the client's
 * first record is more likely bulk data of another protocol than an upgrade request.
 *
 * The answer cannot be judged by size: the server's NewSessionTicket records (1,146 bytes each
 * from node with a client certificate in the ticket) may come before or after it (fixtures/wss:
 * node's client coalesces its Finished with the request and the tickets precede the answer; the
 * Python client sends the request alone and the tickets follow it). A 101 is at least 129 bytes
 * ("HTTP/1.1 101 Switching Protocols", Upgrade, Connection, a 28-character Sec-WebSocket-Accept),
 * a 146-byte record, which is what node's ws sent; its 403 was a 132-byte record. What tells them
 * apart is what follows: after a 101 both sides go on exchanging frames (the smallest, a client
 * frame with an empty payload, is a 6 + 17 = 23-byte record); after a refusal the server closes
 * (close_notify = 2 + 17 = 19 bytes, then FIN) and the client sends nothing but its own close.
 * Records of alert size are not counted as data: a 2-byte server frame (an empty ping or close)
 * has that size too, which only makes the inference more conservative.
 */
export const REQUEST_RECORD_MIN = 157
export const REQUEST_RECORD_MAX = 16_384 + 17

/** The record sizes an upgrade request can have, for the ws checks' summaries. */
export const REQUEST_RECORD_RANGE = `${REQUEST_RECORD_MIN}-${REQUEST_RECORD_MAX}`

/** Bytes of protected records, summed. */
export function recordBytes(records: TlsRecordRef[]): number {
  let total = 0
  for (const record of records) total += record.length
  return total
}
