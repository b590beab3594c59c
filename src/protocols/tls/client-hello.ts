/**
 * ClientHello (RFC 8446 §4.1.2; RFC 5246 §7.4.1.2 for the TLS 1.2 form, which is the same wire
 * layout) and the extensions defender-check reads. Every other extension is kept by type only.
 */
import {TlsCursor, TlsParseError, toHex} from './errors.js'
import {isGrease, latin1} from './grease.js'
import {
  EXT_ALPN,
  EXT_EC_POINT_FORMATS,
  EXT_KEY_SHARE,
  EXT_PSK_KEY_EXCHANGE_MODES,
  EXT_SERVER_NAME,
  EXT_SIGNATURE_ALGORITHMS,
  EXT_SUPPORTED_GROUPS,
  EXT_SUPPORTED_VERSIONS,
} from './iana/extension-types.js'
import {TLS_1_3} from './iana/versions.js'
import type {ClientHelloInfo} from './types.js'

/** What the ClientHello body says; the connection adds the frame and the fingerprints. */
export type ClientHello = Omit<ClientHelloInfo, 'frame' | 'ts' | 'ja3' | 'ja3Hash' | 'ja4' | 'ja4r'>

/** server_name (RFC 6066 §3): the first host_name entry. */
function readServerName(c: TlsCursor): string | undefined {
  const list = c.sub(2, 'server_name list')
  let name: string | undefined
  while (list.remaining > 0) {
    const nameType = list.u8('server_name name_type')
    const value = list.vector(2, 'server_name HostName')
    if (nameType === 0 && name === undefined) name = latin1(value)
  }
  c.expectEnd('server_name extension')
  return name
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1): ProtocolName list, one char per byte. */
export function readAlpnList(c: TlsCursor): string[] {
  const list = c.sub(2, 'ALPN protocol_name_list')
  const out: string[] = []
  while (list.remaining > 0) out.push(latin1(list.vector(1, 'ALPN ProtocolName')))
  c.expectEnd('ALPN extension')
  return out
}

/** key_share client_shares (RFC 8446 §4.2.8): the groups, in order. */
function readKeyShareGroups(c: TlsCursor): number[] {
  const shares = c.sub(2, 'key_share client_shares')
  const groups: number[] = []
  while (shares.remaining > 0) {
    groups.push(shares.u16('KeyShareEntry group'))
    shares.vector(2, 'KeyShareEntry key_exchange')
  }
  c.expectEnd('key_share extension')
  return groups
}

/** Parses a ClientHello handshake body (without the 4-byte handshake header). */
export function parseClientHello(body: Uint8Array): ClientHello {
  const c = new TlsCursor(body)
  const legacyVersion = c.u16('legacy_version')
  const random = toHex(c.bytesView(32, 'random'))
  const sessionId = c.vector(1, 'legacy_session_id')
  if (sessionId.length > 32) throw new TlsParseError('bad-length', `legacy_session_id of ${sessionId.length} bytes (max 32)`, 34)
  const cipherSuites = c.u16List(2, 'cipher_suites')
  const compressionMethods = c.u8List('legacy_compression_methods')
  const hello: ClientHello = {
    legacyVersion,
    random,
    sessionIdLength: sessionId.length,
    cipherSuites,
    compressionMethods,
    extensions: [],
    offersTls13: false,
    grease: cipherSuites.some(isGrease),
  }
  // SSL 3.0 / early TLS ClientHellos may end here: extensions are optional (RFC 5246 §7.4.1.2).
  if (c.remaining === 0) return hello
  const exts = c.sub(2, 'extensions')
  c.expectEnd('ClientHello')
  while (exts.remaining > 0) {
    const type = exts.u16('extension_type')
    const data = exts.sub(2, 'extension_data')
    hello.extensions.push(type)
    if (isGrease(type)) hello.grease = true
    switch (type) {
      case EXT_SERVER_NAME:
        hello.sni = readServerName(data)
        break
      case EXT_ALPN:
        hello.alpn = readAlpnList(data)
        break
      case EXT_SUPPORTED_VERSIONS:
        hello.supportedVersions = data.u16List(1, 'supported_versions')
        data.expectEnd('supported_versions extension')
        if (hello.supportedVersions.some(isGrease)) hello.grease = true
        hello.offersTls13 = hello.supportedVersions.includes(TLS_1_3)
        break
      case EXT_SUPPORTED_GROUPS:
        hello.supportedGroups = data.u16List(2, 'supported_groups')
        data.expectEnd('supported_groups extension')
        if (hello.supportedGroups.some(isGrease)) hello.grease = true
        break
      case EXT_KEY_SHARE:
        hello.keyShareGroups = readKeyShareGroups(data)
        if (hello.keyShareGroups.some(isGrease)) hello.grease = true
        break
      case EXT_SIGNATURE_ALGORITHMS:
        hello.signatureAlgorithms = data.u16List(2, 'signature_algorithms')
        data.expectEnd('signature_algorithms extension')
        if (hello.signatureAlgorithms.some(isGrease)) hello.grease = true
        break
      case EXT_PSK_KEY_EXCHANGE_MODES:
        hello.pskKeyExchangeModes = data.u8List('psk_key_exchange_modes')
        data.expectEnd('psk_key_exchange_modes extension')
        break
      case EXT_EC_POINT_FORMATS:
        hello.ecPointFormats = data.u8List('ec_point_formats')
        data.expectEnd('ec_point_formats extension')
        break
      default:
        break
    }
  }
  return hello
}
