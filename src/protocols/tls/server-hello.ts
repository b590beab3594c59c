/**
 * ServerHello and HelloRetryRequest (RFC 8446 §4.1.3; RFC 5246 §7.4.1.3). A HelloRetryRequest
 * is a ServerHello whose random is SHA-256("HelloRetryRequest").
 */
import {TlsCursor, TlsParseError, toHex} from './errors.js'
import {readAlpnList} from './client-hello.js'
import {EXT_ALPN, EXT_KEY_SHARE, EXT_SUPPORTED_VERSIONS} from './iana/extension-types.js'
import type {ServerHelloInfo} from './types.js'

/** RFC 8446 §4.1.3: the special random value of a HelloRetryRequest. */
export const HELLO_RETRY_REQUEST_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c'

export type ServerHello = Omit<ServerHelloInfo, 'frame' | 'ts' | 'ja3s' | 'ja3sHash'>

/** Parses a ServerHello handshake body (without the 4-byte handshake header). */
export function parseServerHello(body: Uint8Array): ServerHello {
  const c = new TlsCursor(body)
  const legacyVersion = c.u16('legacy_version')
  const random = toHex(c.bytesView(32, 'random'))
  const sessionId = c.vector(1, 'legacy_session_id_echo')
  if (sessionId.length > 32) throw new TlsParseError('bad-length', `legacy_session_id_echo of ${sessionId.length} bytes (max 32)`, 34)
  const cipherSuite = c.u16('cipher_suite')
  c.u8('legacy_compression_method')
  const helloRetryRequest = random === HELLO_RETRY_REQUEST_RANDOM
  const hello: ServerHello = {legacyVersion, random, version: legacyVersion, cipherSuite, extensions: [], helloRetryRequest}
  if (c.remaining === 0) return hello
  const exts = c.sub(2, 'extensions')
  c.expectEnd('ServerHello')
  while (exts.remaining > 0) {
    const type = exts.u16('extension_type')
    const data = exts.sub(2, 'extension_data')
    hello.extensions.push(type)
    switch (type) {
      case EXT_SUPPORTED_VERSIONS:
        // selected_version (RFC 8446 §4.2.1): a single version in ServerHello and HRR.
        hello.version = data.u16('selected_version')
        data.expectEnd('supported_versions extension')
        break
      case EXT_KEY_SHARE:
        // ServerHello: one KeyShareEntry; HelloRetryRequest: only selected_group (RFC 8446 §4.2.8).
        hello.keyShareGroup = data.u16('key_share group')
        if (!helloRetryRequest) data.vector(2, 'key_share key_exchange')
        data.expectEnd('key_share extension')
        break
      case EXT_ALPN: {
        // RFC 7301 §3.1: the server's list holds exactly one protocol.
        const list = readAlpnList(data)
        if (list.length !== 1) throw new TlsParseError('bad-value', `ServerHello ALPN lists ${list.length} protocols (must be 1)`, data.offset)
        hello.alpn = list[0]
        break
      }
      default:
        break
    }
  }
  return hello
}
