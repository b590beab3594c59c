/** Drives the real record and handshake readers over bytes, for tests that need messages. */
import type {FrameRef} from '../../../src/stream/types.js'
import {HandshakeReader} from '../../../src/protocols/tls/handshake.js'
import {TlsRecordReader} from '../../../src/protocols/tls/record.js'

export interface CollectedRecord {
  contentType: number
  version: number
  fragment: Uint8Array
  frame: number
}

export interface CollectedMessage {
  type: number
  body: Uint8Array
  frame: number
}

/**
 * Every handshake message found in the handshake records of `bytes` (bodies copied). With
 * `untilChangeCipherSpec`, stops at the first ChangeCipherSpec (TLS 1.2: what follows is encrypted).
 */
export function handshakeMessagesOf(bytes: Uint8Array, untilChangeCipherSpec = false): CollectedMessage[] {
  const ref: FrameRef = {frame: 1, ts: 0}
  let encrypted = false
  const messages: CollectedMessage[] = []
  const handshake = new HandshakeReader({
    message: (m) => messages.push({type: m.type, body: m.body.slice(), frame: m.ref.frame}),
    malformed: (code, message) => {
      throw new Error(`${code}: ${message}`)
    },
  })
  const records = new TlsRecordReader({
    record: (r) => {
      if (r.contentType === 20 && untilChangeCipherSpec) encrypted = true
      if (r.contentType === 22 && !encrypted) handshake.push(r.fragment, r.ref)
    },
    malformed: (code, message) => {
      throw new Error(`${code}: ${message}`)
    },
  })
  records.push(bytes, ref)
  return messages
}

export function firstMessage(bytes: Uint8Array, type: number): Uint8Array {
  const m = handshakeMessagesOf(bytes).find((x) => x.type === type)
  if (!m) throw new Error(`no handshake message of type ${type}`)
  return m.body
}
