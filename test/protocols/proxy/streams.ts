/**
 * test/protocols/proxy/streams.json (written by make-streams.sh from tshark) and what tshark's view says
 * our ProxyFacts must be. Nothing here comes from our own reader.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Direction} from '../../../src/stream/types.js'
import {ROOT} from '../../helpers/paths.js'

interface SocksMessage {
  frame: number
  from: 'client' | 'server'
  seq: number
  len: number
  version: number | null
  command: number | null
  dst: string | null
  v4aName: string | null
  dstport: number | null
  port: number | null
  results: number | null
  authMethods: number[] | null
  acceptedMethod: number | null
}

interface HttpMessage {
  frame: number
  from: 'client' | 'server'
  method: string | null
  uri: string | null
  code: number | null
  phrase: string | null
  responseVersion: string | null
  server: string | null
  proxyAuthenticate: string[] | null
  proxyAuthorizationPresent: boolean
  via: string | null
}

export interface StreamEntry {
  capture: string
  stream: number
  client: string
  server: string
  chunks: Array<[Direction, string]>
  socks: SocksMessage[]
  http: HttpMessage[]
  tls: {clientHello?: {frame: number; offset: number; sni: string | null}; serverHello?: {frame: number; offset: number}}
}

export const STREAMS: StreamEntry[] = JSON.parse(readFileSync(join(ROOT, 'test', 'protocols', 'proxy', 'streams.json'), 'utf8')).connections

export function bytesOf(entry: StreamEntry, direction: Direction): Buffer {
  return Buffer.from(entry.chunks.filter(([d]) => d === direction).map(([, hex]) => hex).join(''), 'hex')
}

/** SOCKS reply names as the RFCs write them (RFC 1928 §6; SOCKS4 protocol document). */
const SOCKS5_REP: Record<number, string> = {0: 'succeeded', 5: 'Connection refused'}
const SOCKS4_CD: Record<number, string> = {90: 'request granted', 91: 'request rejected or failed'}
/** RFC 1928 §3 method names. */
const SOCKS5_METHOD: Record<number, string> = {0: 'no authentication required', 1: 'GSSAPI', 2: 'username/password'}

export interface ExpectedFromTshark {
  type: 'http-connect' | 'socks4' | 'socks4a' | 'socks5'
  target: {host: string; port: number}
  requestFrame: number
  response: {frame: number; status: number; reason: string}
  tunnelOpened: boolean
  /** SOCKS5: method names offered and the one accepted; HTTP: Proxy-Authenticate schemes. */
  offered?: string[]
  scheme?: string
  via?: string
  server?: string
  httpVersion?: string
  /** Offsets where the tunnel's bytes start in each direction (where tshark's TLS starts). */
  tunnelFrom: Record<Direction, number>
}

/** First whitespace-delimited token of each challenge tshark shows (the auth-scheme, RFC 9110 §11.3). */
function schemesOf(challenges: string[]): string[] {
  return challenges.map((challenge) => challenge.trim().split(/\s+/)[0]!)
}

export function expectedFromTshark(entry: StreamEntry): ExpectedFromTshark {
  const c2sLength = bytesOf(entry, 'c2s').length
  const s2cLength = bytesOf(entry, 's2c').length
  if (entry.http.length > 0) {
    const request = entry.http.find((m) => m.from === 'client' && m.method === 'CONNECT')!
    const response = entry.http.find((m) => m.from === 'server' && m.code !== null)!
    const at = request.uri!.lastIndexOf(':')
    const opened = response.code! >= 200 && response.code! < 300
    const expected: ExpectedFromTshark = {
      type: 'http-connect',
      target: {host: request.uri!.slice(0, at), port: Number(request.uri!.slice(at + 1))},
      requestFrame: request.frame,
      response: {frame: response.frame, status: response.code!, reason: response.phrase ?? ''},
      tunnelOpened: opened,
      httpVersion: response.responseVersion!.replace('HTTP/', ''),
      tunnelFrom: {c2s: entry.tls.clientHello?.offset ?? c2sLength, s2c: entry.tls.serverHello?.offset ?? s2cLength},
    }
    if (request.proxyAuthorizationPresent) expected.scheme = 'Basic'
    if (response.proxyAuthenticate) expected.offered = schemesOf(response.proxyAuthenticate)
    if (response.via) expected.via = response.via
    if (response.server) expected.server = response.server
    return expected
  }
  const client = entry.socks.filter((m) => m.from === 'client')
  const server = entry.socks.filter((m) => m.from === 'server')
  const request = client.find((m) => m.command !== null)!
  const reply = server.find((m) => m.results !== null)!
  const version = request.version
  const type = version === 5 ? 'socks5' : request.v4aName ? 'socks4a' : 'socks4'
  const status = reply.results!
  const tunnelOpened = version === 5 ? status === 0 : status === 90
  // Where the reply ends is where the tunnel starts (tshark's TLS dissection agrees where it runs).
  const replyEnd = reply.seq - 1 + reply.len
  const expected: ExpectedFromTshark = {
    type,
    target: {host: request.v4aName ?? request.dst!, port: (version === 5 ? request.port : request.dstport)!},
    requestFrame: request.frame,
    response: {frame: reply.frame, status, reason: (version === 5 ? SOCKS5_REP : SOCKS4_CD)[status]!},
    tunnelOpened,
    tunnelFrom: {c2s: entry.tls.clientHello?.offset ?? request.seq - 1 + request.len, s2c: entry.tls.serverHello?.offset ?? replyEnd},
  }
  if (version === 5) {
    const greeting = client.find((m) => m.authMethods !== null)!
    const selection = server.find((m) => m.acceptedMethod !== null)!
    expected.offered = greeting.authMethods!.map((m) => SOCKS5_METHOD[m]!)
    expected.scheme = SOCKS5_METHOD[selection.acceptedMethod!]
  }
  return expected
}
