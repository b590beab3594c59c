/**
 * HTTP CONNECT (RFC 9110 §9.3.6): the request and response heads that open a tunnel through an
 * HTTP proxy. Pure functions over one complete head (request/status line, header fields, empty
 * line: RFC 9112 §2.1). Credentials are never returned: of Proxy-Authorization only the scheme
 * name is read (RFC 9110 §11.6.2).
 */
import {appendAll} from '../../lists.js'
import {redactUrl} from '../../secrets.js'
import type {ProxyTarget} from './types.js'

const LF = 0x0a
const CR = 0x0d

/** "CONNECT " — the method is case-sensitive (RFC 9110 §9.1). */
export const CONNECT_PREFIX: readonly number[] = [0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54, 0x20]

/**
 * Offset just past the empty line that ends a head in `bytes`, or -1 when it is not there yet.
 * Lines end in CRLF; a bare LF is accepted as RFC 9112 §2.2 allows. Scanning starts at `from`:
 * a caller that found nothing resumes at `resumeAfterMiss(bytes.length)`.
 */
export function findHeadEnd(bytes: Uint8Array, from: number): number {
  const length = bytes.length
  for (let i = bytes.indexOf(LF, from); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    if (i + 1 >= length) return -1
    const next = bytes[i + 1]
    if (next === LF) return i + 2
    if (next === CR) {
      if (i + 2 >= length) return -1
      if (bytes[i + 2] === LF) return i + 3
    }
  }
  return -1
}

/** Where to resume findHeadEnd after a miss: an end marker ("\n\n", "\n\r\n") may straddle the last 2 bytes. */
export function resumeAfterMiss(length: number): number {
  return Math.max(0, length - 2)
}

export interface ConnectRequest {
  /** Absent when the request-target is not host:port. */
  target?: ProxyTarget
  /** Scheme of Proxy-Authorization, when the request carried one. */
  authorizationScheme?: string
  /** What is wrong with the head, when something is. */
  malformed?: string
}

export interface ConnectResponse {
  /** "1.1" */
  version: string
  status: number
  reason: string
  /** Schemes of the Proxy-Authenticate challenges, in order. */
  challenges: string[]
  via?: string
  server?: string
}

/** Longest header value kept (Via, Server, reason phrase): evidence, not storage. */
const MAX_VALUE_CHARS = 200

/** RFC 9110 §5.6.2 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Schemes a bare Proxy-Authorization value may be (no credentials after it). */
const KNOWN_SCHEMES = ['Basic', 'Bearer', 'Digest', 'Negotiate', 'NTLM', 'Kerberos']

interface Head {
  startLine: string
  /** Lower-case field name → values in order (obs-fold continuation lines joined, RFC 9112 §5.2). */
  fields: Array<[string, string]>
}

function splitHead(head: Uint8Array): Head {
  // latin1: field values are octets (RFC 9110 §5.5); a head is at most a few KiB.
  const lines = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1').split(/\r?\n/)
  const fields: Array<[string, string]> = []
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    if ((line[0] === ' ' || line[0] === '\t') && fields.length > 0) {
      fields[fields.length - 1]![1] += ' ' + line.trim()
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()])
  }
  return {startLine: lines[0] ?? '', fields}
}

/** Printable ASCII only, capped: header values go into reports. */
function clean(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?')
  return printable.length > MAX_VALUE_CHARS ? printable.slice(0, MAX_VALUE_CHARS) + '...' : printable
}

/** A request-target for a message: any userinfo (never valid in authority-form, RFC 9112 §3.2.3) is masked, and so are credentials in an absolute or origin-form target's query (src/secrets.ts). */
function describeTarget(target: string): string {
  return JSON.stringify(clean(redactUrl(target.replace(/^[^@/]*@/, '***@'))))
}

/** host:port or [IPv6]:port (RFC 9112 §3.2.3 authority-form). */
export function parseAuthority(authority: string): ProxyTarget | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/@]+):(\d{1,5})$/.exec(authority)
  if (!match) return undefined
  const port = Number(match[2])
  if (port < 1 || port > 65535) return undefined
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!
  return {host, port}
}

/**
 * The scheme of a credentials value (RFC 9110 §11.4: auth-scheme [ 1*SP ( token68 / #auth-param ) ]).
 * The credentials themselves are never returned: a value without a space is a known scheme name
 * alone, or else 'unknown' (it could be a bare secret).
 */
export function credentialsScheme(value: string): string {
  const space = value.search(/[ \t]/)
  if (space === -1) return KNOWN_SCHEMES.find((scheme) => scheme.toLowerCase() === value.toLowerCase()) ?? 'unknown'
  const scheme = value.slice(0, space)
  return TOKEN.test(scheme) && scheme.length <= 32 ? scheme : 'unknown'
}

/**
 * Scheme names of a Proxy-Authenticate value: a list of challenges, each `scheme [token68 /
 * auth-params]` (RFC 9110 §11.6.1). Elements are split at commas outside quoted strings; one that
 * starts with `token=` is an auth-param of the previous challenge, not a scheme.
 */
export function challengeSchemes(value: string): string[] {
  const schemes: string[] = []
  let element = ''
  let quoted = false
  const flush = (): void => {
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(\s*=)?/.exec(element)
    if (match && match[2] === undefined) schemes.push(match[1]!)
    element = ''
  }
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (quoted) {
      if (c === '\\') {
        element += c + (value[i + 1] ?? '')
        i++
        continue
      }
      if (c === '"') quoted = false
      element += c
    } else if (c === '"') {
      quoted = true
      element += c
    } else if (c === ',') {
      flush()
    } else {
      element += c
    }
  }
  flush()
  return schemes
}

/** The CONNECT request head (request line "CONNECT authority HTTP/x.y" and fields). */
export function parseConnectRequest(head: Uint8Array): ConnectRequest {
  const {startLine, fields} = splitHead(head)
  const request: ConnectRequest = {}
  const line = /^CONNECT +(\S+) +HTTP\/\d\.\d *$/.exec(startLine)
  if (!line) {
    const [method = '', target = ''] = startLine.split(' ', 2)
    request.malformed = `request line is not "CONNECT host:port HTTP/x.y": ${JSON.stringify(clean(method))} ${describeTarget(target)}`
  } else {
    request.target = parseAuthority(line[1]!)
    if (!request.target) request.malformed = `request-target ${describeTarget(line[1]!)} is not host:port`
  }
  for (const [name, value] of fields) {
    if (name === 'proxy-authorization') request.authorizationScheme = credentialsScheme(value)
  }
  return request
}

/** A response head; undefined when the status line is not "HTTP/x.y NNN [reason]". */
export function parseConnectResponse(head: Uint8Array): ConnectResponse | undefined {
  const {startLine, fields} = splitHead(head)
  const line = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(startLine)
  if (!line) return undefined
  const response: ConnectResponse = {version: line[1]!, status: Number(line[2]), reason: clean((line[3] ?? '').trim()), challenges: []}
  const via: string[] = []
  for (const [name, value] of fields) {
    if (name === 'proxy-authenticate') appendAll(response.challenges, challengeSchemes(value))
    else if (name === 'via') via.push(value)
    else if (name === 'server') response.server = clean(value)
  }
  if (via.length > 0) response.via = clean(via.join(', '))
  return response
}

/** Describes the start line of a head that is not HTTP, for an Issue. */
export function describeStartLine(head: Uint8Array): string {
  return JSON.stringify(clean(splitHead(head).startLine))
}
