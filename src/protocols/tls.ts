/**
 * TLS (RFC 8446, RFC 5246) on the TCP stream or in a proxy's tunnel. A stream that starts with
 * anything another protocol does not claim goes to the TLS reader too: it says what the bytes
 * are not (tls.notTls). Decrypted application data (with keys) is its payload.
 */
import {TlsConnectionReader} from './tls/connection.js'
import type {TlsFacts} from './tls/types.js'
import {defineProtocol, TCP} from './registry.js'

declare module './registry.js' {
  interface ProtocolFactsByName {
    /** Present when the connection carried TLS (or bytes that were expected to be TLS). */
    tls: TlsFacts
  }
}

/** A TLS stream starts with a handshake record (RFC 8446 §5.1, content type 22). */
const TLS_HANDSHAKE_RECORD = 0x16

function startsWithHandshakeRecord(first: Uint8Array): boolean {
  return first[0] === TLS_HANDSHAKE_RECORD
}

export const tlsProtocol = defineProtocol({
  name: 'tls',
  attaches: [{to: TCP, recognise: startsWithHandshakeRecord, fallback: true}],
  reader: (context) => {
    let payload: ReturnType<typeof context.payload> | undefined
    return new TlsConnectionReader({keys: context.keys, onApplicationData: (direction, bytes, ref) => (payload ??= context.payload()).data(direction, bytes, ref)})
  },
  facts: (reader) => reader.facts(),
  issues: (reader) => ({issues: reader.issues, omitted: reader.truncated?.issues ?? 0}),
})
