/**
 * Replays one direction of a captured TLS 1.3 connection through the real record and handshake
 * readers (src/protocols/tls) and the RecordDecryptor, switching keys where RFC 8446 says the sender
 * does: handshake secret after the ServerHello, application secret after the sender's Finished
 * (§7.1), next generation after a KeyUpdate (§4.6.3). A sketch of what the connection reader will
 * do, kept to what the tests need.
 */
import type {FrameRef} from '../../../../src/stream/types.js'
import {HandshakeReader} from '../../../../src/protocols/tls/handshake.js'
import {TlsRecordReader} from '../../../../src/protocols/tls/record.js'
import {RecordDecryptor} from '../../../../src/protocols/tls/crypto/record-protection.js'

export interface ReplayedMessage {
  type: number
  body: Uint8Array
  /** Read from a decrypted record. */
  decrypted: boolean
}

export interface ReplayedDirection {
  /** Content type of every record: the inner type for protected records, as tshark shows it. */
  contentTypes: number[]
  messages: ReplayedMessage[]
  applicationData: Uint8Array[]
  /** Plaintext and content type of the first protected record. */
  firstProtected?: {contentType: number; plaintext: Uint8Array}
}

const HS_FINISHED = 20
const HS_KEY_UPDATE = 24

export function replayDirection(stream: Uint8Array, cipherSuite: number, handshakeSecret: Uint8Array, applicationSecret: Uint8Array): ReplayedDirection {
  const ref: FrameRef = {frame: 1, ts: 0}
  const out: ReplayedDirection = {contentTypes: [], messages: [], applicationData: []}
  const decryptor = new RecordDecryptor(cipherSuite, handshakeSecret)
  let decrypting = false
  const fail = (code: string, message: string): never => {
    throw new Error(`${code}: ${message}`)
  }
  const handshake = new HandshakeReader({
    message: (m) => {
      out.messages.push({type: m.type, body: m.body.slice(), decrypted: decrypting})
      if (!decrypting) return
      if (m.type === HS_FINISHED) decryptor.rekey(applicationSecret)
      else if (m.type === HS_KEY_UPDATE) decryptor.rekey()
    },
    malformed: fail,
  })
  const records = new TlsRecordReader({
    record: ({contentType, version, fragment}) => {
      if (contentType !== 23) {
        out.contentTypes.push(contentType)
        if (contentType === 22) handshake.push(fragment, ref)
        return
      }
      decrypting = true
      const header = Uint8Array.of(contentType, version >> 8, version & 0xff, fragment.length >> 8, fragment.length & 0xff)
      const record = decryptor.decrypt(header, fragment)
      out.firstProtected ??= record
      out.contentTypes.push(record.contentType)
      if (record.contentType === 22) handshake.push(record.plaintext, ref)
      else if (record.contentType === 23) out.applicationData.push(record.plaintext)
    },
    malformed: fail,
  })
  records.push(stream, ref)
  return out
}
