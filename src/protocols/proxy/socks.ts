/**
 * SOCKS messages: SOCKS4 and its 4a extension (the SOCKS4 protocol and SOCKS 4A documents by
 * Ying-Da Lee), SOCKS5 (RFC 1928) and its username/password subnegotiation (RFC 1929). Each
 * parser reads one message from the start of `bytes` and returns NEED_MORE while it is not all
 * there, a Malformed when it cannot be that message, or the message and its length. Passwords
 * and SOCKS4 user ids are skipped, never returned.
 */
import {formatIpv4, formatIpv6} from '../../packet/address.js'
import type {ProxyTarget} from './types.js'

export const SOCKS4_VERSION = 0x04
export const SOCKS5_VERSION = 0x05

export const NEED_MORE = {kind: 'more'} as const
export interface Malformed {
  kind: 'malformed'
  why: string
}
type Parsed<T> = typeof NEED_MORE | Malformed | (T & {kind: 'ok'; length: number})

function malformed(why: string): Malformed {
  return {kind: 'malformed', why}
}

/** RFC 1928 §4 (SOCKS4 uses 1 and 2 the same way). */
export const SOCKS_COMMANDS: ReadonlyMap<number, string> = new Map([
  [1, 'CONNECT'],
  [2, 'BIND'],
  [3, 'UDP ASSOCIATE'],
])

/** SOCKS4 reply codes (CD), from the SOCKS4 protocol document. */
export const SOCKS4_REPLIES: ReadonlyMap<number, string> = new Map([
  [90, 'request granted'],
  [91, 'request rejected or failed'],
  [92, 'request rejected because SOCKS server cannot connect to identd on the client'],
  [93, 'request rejected because the client program and identd report different user-ids'],
])

/** RFC 1928 §6 reply field (REP). */
export const SOCKS5_REPLIES: ReadonlyMap<number, string> = new Map([
  [0x00, 'succeeded'],
  [0x01, 'general SOCKS server failure'],
  [0x02, 'connection not allowed by ruleset'],
  [0x03, 'Network unreachable'],
  [0x04, 'Host unreachable'],
  [0x05, 'Connection refused'],
  [0x06, 'TTL expired'],
  [0x07, 'Command not supported'],
  [0x08, 'Address type not supported'],
])

/** RFC 1928 §3 method values and the IANA "SOCKS Methods" registry. */
export const SOCKS5_METHODS: ReadonlyMap<number, string> = new Map([
  [0x00, 'no authentication required'],
  [0x01, 'GSSAPI'],
  [0x02, 'username/password'],
  [0x03, 'CHAP'],
  [0x05, 'challenge-response'],
  [0x06, 'SSL'],
  [0x07, 'NDS authentication'],
  [0x08, 'multi-authentication framework'],
  [0x09, 'JSON parameter block'],
  [0xff, 'no acceptable methods'],
])
export const SOCKS5_NO_AUTHENTICATION = 0x00
export const SOCKS5_GSSAPI = 0x01
export const SOCKS5_USERNAME_PASSWORD = 0x02
export const SOCKS5_NO_ACCEPTABLE_METHODS = 0xff

/** A code's name from `table`, or what the range means (RFC 1928 §3: X'80'-X'FE' private methods). */
export function codeName(table: ReadonlyMap<number, string>, code: number): string {
  const name = table.get(code)
  if (name !== undefined) return name
  if (table === SOCKS5_METHODS && code >= 0x80) return `private method 0x${code.toString(16)}`
  return `unassigned 0x${code.toString(16).padStart(2, '0')}`
}

function port(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!
}

/** Text of bytes[start, end) as a host name: printable ASCII, anything else escaped. */
function hostText(bytes: Uint8Array, start: number, end: number): string {
  let text = ''
  for (let i = start; i < end; i++) {
    const c = bytes[i]!
    text += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`
  }
  return text
}

export interface Socks4Request {
  command: number
  target: ProxyTarget
  /** DSTIP was 0.0.0.x (x ≠ 0) and a host name followed the user id (SOCKS 4A). */
  socks4a: boolean
}

/** VN=4 CD DSTPORT(2) DSTIP(4) USERID NUL [HOST NUL]. */
export function parseSocks4Request(bytes: Uint8Array): Parsed<Socks4Request> {
  if (bytes.length < 9) return NEED_MORE
  if (bytes[0] !== SOCKS4_VERSION) return malformed(`SOCKS4 request version ${bytes[0]}, expected 4`)
  const userIdEnd = bytes.indexOf(0, 8)
  if (userIdEnd === -1) return NEED_MORE
  const socks4a = bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] !== 0
  if (!socks4a) {
    return {kind: 'ok', length: userIdEnd + 1, command: bytes[1]!, target: {host: formatIpv4(bytes, 4), port: port(bytes, 2)}, socks4a}
  }
  const hostEnd = bytes.indexOf(0, userIdEnd + 1)
  if (hostEnd === -1) return NEED_MORE
  return {kind: 'ok', length: hostEnd + 1, command: bytes[1]!, target: {host: hostText(bytes, userIdEnd + 1, hostEnd), port: port(bytes, 2)}, socks4a}
}

export interface Socks4Reply {
  code: number
}

/** VN(0) CD DSTPORT(2) DSTIP(4); VN is the reply version 0, though some servers send 4. */
export function parseSocks4Reply(bytes: Uint8Array): Parsed<Socks4Reply> {
  if (bytes.length < 8) return NEED_MORE
  if (bytes[0] !== 0 && bytes[0] !== SOCKS4_VERSION) return malformed(`SOCKS4 reply version ${bytes[0]}, expected 0`)
  return {kind: 'ok', length: 8, code: bytes[1]!}
}

export interface Socks5Greeting {
  methods: number[]
}

/** VER NMETHODS METHODS[NMETHODS] (RFC 1928 §3). */
export function parseSocks5Greeting(bytes: Uint8Array): Parsed<Socks5Greeting> {
  if (bytes.length < 2) return NEED_MORE
  if (bytes[0] !== SOCKS5_VERSION) return malformed(`SOCKS5 greeting version ${bytes[0]}, expected 5`)
  const count = bytes[1]!
  if (count === 0) return malformed('SOCKS5 greeting lists no authentication method')
  if (bytes.length < 2 + count) return NEED_MORE
  return {kind: 'ok', length: 2 + count, methods: Array.from(bytes.subarray(2, 2 + count))}
}

export interface Socks5MethodSelection {
  method: number
}

/** VER METHOD (RFC 1928 §3). */
export function parseSocks5MethodSelection(bytes: Uint8Array): Parsed<Socks5MethodSelection> {
  if (bytes.length < 2) return NEED_MORE
  if (bytes[0] !== SOCKS5_VERSION) return malformed(`SOCKS5 method selection version ${bytes[0]}, expected 5`)
  return {kind: 'ok', length: 2, method: bytes[1]!}
}

/** VER(1) ULEN UNAME PLEN PASSWD (RFC 1929 §2): only its length is read, the credentials are skipped. */
export function parseSocks5UserPassRequest(bytes: Uint8Array): Parsed<object> {
  if (bytes.length < 2) return NEED_MORE
  if (bytes[0] !== 0x01) return malformed(`username/password subnegotiation version ${bytes[0]}, expected 1`)
  const passwordLengthAt = 2 + bytes[1]!
  if (bytes.length <= passwordLengthAt) return NEED_MORE
  const length = passwordLengthAt + 1 + bytes[passwordLengthAt]!
  if (bytes.length < length) return NEED_MORE
  return {kind: 'ok', length}
}

export interface Socks5UserPassReply {
  /** 0 = success (RFC 1929 §2). */
  status: number
}

/** VER STATUS (RFC 1929 §2). Some servers answer with VER 5; the status is what counts. */
export function parseSocks5UserPassReply(bytes: Uint8Array): Parsed<Socks5UserPassReply> {
  if (bytes.length < 2) return NEED_MORE
  if (bytes[0] !== 0x01 && bytes[0] !== SOCKS5_VERSION) return malformed(`username/password reply version ${bytes[0]}, expected 1`)
  return {kind: 'ok', length: 2, status: bytes[1]!}
}

export interface Socks5Message {
  /** CMD in a request, REP in a reply. */
  code: number
  address: ProxyTarget
}

/**
 * A request `VER CMD RSV ATYP DST.ADDR DST.PORT` (RFC 1928 §4) or a reply
 * `VER REP RSV ATYP BND.ADDR BND.PORT` (§6): the same layout. ATYP 1 IPv4, 3 domain name
 * (length-prefixed), 4 IPv6 (§5).
 */
export function parseSocks5Message(bytes: Uint8Array, what: 'request' | 'reply'): Parsed<Socks5Message> {
  if (bytes.length < 5) return NEED_MORE
  if (bytes[0] !== SOCKS5_VERSION) return malformed(`SOCKS5 ${what} version ${bytes[0]}, expected 5`)
  const atyp = bytes[3]
  let addressEnd: number
  if (atyp === 0x01) addressEnd = 8
  else if (atyp === 0x04) addressEnd = 20
  else if (atyp === 0x03) addressEnd = 5 + bytes[4]!
  else return malformed(`SOCKS5 ${what} address type ${atyp} (expected 1, 3 or 4)`)
  const length = addressEnd + 2
  if (bytes.length < length) return NEED_MORE
  const host = atyp === 0x01 ? formatIpv4(bytes, 4) : atyp === 0x04 ? formatIpv6(bytes, 4) : hostText(bytes, 5, addressEnd)
  return {kind: 'ok', length, code: bytes[1]!, address: {host, port: port(bytes, addressEnd)}}
}
