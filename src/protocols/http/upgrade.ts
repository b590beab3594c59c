/**
 * HttpUpgradeReader: the HTTP/1.1 opening handshake of a WebSocket connection (RFC 6455 §4),
 * read incrementally from both directions: c2s the request, s2c the response (RFC 9112 §2–5
 * message syntax). After a `101` with `Upgrade: websocket` every further byte of a direction —
 * the rest of the chunk that ended the header block, then whole chunks as they come — goes,
 * uncopied, to the StreamHandler returned by `onUpgrade` (see websocket/connection.ts).
 *
 * Per direction the reader is a state machine: `head` (collecting one header block, capped at
 * maxHeaderBytes) → `upgraded` (forwarding) or `done` (not HTTP, refused, too large: bytes are
 * ignored). c2s has one more state, `early`: the request is complete but no response has
 * decided yet; bytes the client sends then are kept (bounded) and handed on if the 101 comes.
 */
import {LIST_CAPS, pushCapped} from '../../lists.js'
import {createHash} from 'node:crypto'
import type {Issue, IssueSeverity} from '../../issues.js'
import {describeHeaderLine, redactUrl, reportableHeaderValue} from '../../secrets.js'
import {senderOf, type Direction, type FrameRef, type StreamHandler} from '../../stream/types.js'
import type {HttpHeader, HttpUpgradeFacts, HttpUpgradeRequest, HttpUpgradeResponse, WebSocketExtension} from './types.js'

import {DEFAULT_MAX_HEADER_BYTES} from '../../limits.js'
export const DEFAULT_MAX_EARLY_BYTES = 64 * 1024
/** First bytes of a stream that is not HTTP shown in http.not-http. */
const NOT_HTTP_EVIDENCE = 16

/** RFC 6455 §1.3: the GUID the server appends to Sec-WebSocket-Key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 step 5.4). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID, 'latin1').digest('base64')
}

export interface HttpUpgradeReaderOptions {
  /** Largest header block (start line through the empty line) before 'http.headers-too-large'. Default 64 KiB. */
  maxHeaderBytes?: number
  /** Client bytes kept while waiting for the response, before 'http.early-data-too-large'. Default 64 KiB. */
  maxEarlyBytes?: number
  /**
   * Called once, when a 101 with Upgrade: websocket is read. The handler returned receives each
   * direction's bytes after its header block (data, gap, end), as the tracker would deliver them.
   */
  onUpgrade?(facts: HttpUpgradeFacts, ref: FrameRef): StreamHandler | undefined
}

type State = 'head' | 'early' | 'upgraded' | 'done'

const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f] // "HTTP/"

/** tchar (RFC 9110 §5.6.2). */
const TCHAR = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^ ]+) (HTTP\/\d\.\d)$/
const STATUS_LINE = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

class DirectionReader {
  state: State = 'head'
  /** Header block bytes so far (copied: chunks are only valid during the call). */
  block: Uint8Array
  length = 0
  /** Bytes in the current line, CR not counted: 0 at a LF means the empty line. */
  lineLength = 0
  /** Still in the start line (the not-HTTP test runs there). */
  startLine = true
  /** Start line bytes seen before its first SP. */
  prefix = 0
  /** c2s bytes after the request while no response has decided (state 'early'). */
  early?: Uint8Array
  earlyLength = 0
  earlyRef?: FrameRef
  earlyIssue?: Issue
  /** After http.not-http: its first bytes as evidence, completed from later chunks so that where chunks split never shows. */
  notHttp?: {issue: Issue; first: Uint8Array; length: number}

  constructor(readonly direction: Direction) {
    this.block = new Uint8Array(512)
  }

  resetBlock(): void {
    this.length = 0
    this.lineLength = 0
    this.startLine = true
    this.prefix = 0
  }
}

export class HttpUpgradeReader implements StreamHandler {
  readonly facts: HttpUpgradeFacts = {upgraded: false, permessageDeflate: {offered: false, accepted: false}, issues: []}
  private readonly maxHeaderBytes: number
  private readonly maxEarlyBytes: number
  private readonly c2s = new DirectionReader('c2s')
  private readonly s2c = new DirectionReader('s2c')
  private next?: StreamHandler

  constructor(private readonly options: HttpUpgradeReaderOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES
    this.maxEarlyBytes = options.maxEarlyBytes ?? DEFAULT_MAX_EARLY_BYTES
  }

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    if (bytes.length === 0) return
    const d = direction === 'c2s' ? this.c2s : this.s2c
    switch (d.state) {
      case 'head':
        this.readHead(d, bytes, ref)
        return
      case 'early':
        this.keepEarly(d, bytes, ref)
        return
      case 'upgraded':
        this.next?.data(direction, bytes, ref)
        return
      case 'done':
        if (d.notHttp !== undefined && d.notHttp.length < NOT_HTTP_EVIDENCE) this.notHttpEvidence(d, bytes)
        return
    }
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    const d = direction === 'c2s' ? this.c2s : this.s2c
    d.notHttp = undefined // bytes after a hole are not the stream's first bytes
    if (d.state === 'upgraded') {
      this.next?.gap?.(direction, size, ref)
    } else if (d.state !== 'done') {
      this.issue('http.gap', 'warn', `${size} bytes of the ${senderOf(direction)}'s handshake were not captured; stopped reading it`, ref)
      d.state = 'done'
    }
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    for (const d of direction === 'both' ? [this.c2s, this.s2c] : [direction === 'c2s' ? this.c2s : this.s2c]) {
      if (d.state === 'upgraded') {
        this.next?.end?.(d.direction, ref)
      } else if (d.state === 'head' && d.length > 0) {
        this.issue('http.truncated', 'warn', `the ${senderOf(d.direction)}'s stream ended inside an HTTP header block (${d.length} bytes)`, ref)
        d.state = 'done'
      }
    }
  }

  /** Collects a header block; at its empty line parses it and passes the rest of the chunk on. */
  private readHead(d: DirectionReader, bytes: Uint8Array, ref: FrameRef): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!
      if (d.length === 0 && (b === CR || b === LF)) continue // RFC 9112 §2.2: empty lines before a message are ignored
      if (d.startLine && !this.startLineByteOk(d, b)) {
        this.notHttp(d, bytes.subarray(i), ref)
        return
      }
      if (d.length === this.maxHeaderBytes) {
        this.issue('http.headers-too-large', 'error', `the ${senderOf(d.direction)}'s header block exceeds ${this.maxHeaderBytes} bytes`, ref)
        d.state = 'done'
        return
      }
      if (d.length === d.block.length) d.block = grow(d.block, Math.min(d.block.length * 2, this.maxHeaderBytes))
      d.block[d.length++] = b
      if (b === LF) {
        // A complete request line must read `method SP request-target SP HTTP-version` (RFC 9112
        // §3): text such as "hello from defender" passes the byte test above but is not HTTP.
        if (d.startLine && d.direction === 'c2s' && !REQUEST_LINE.test(Buffer.from(d.block.buffer, d.block.byteOffset, d.length).toString('latin1').replace(/\r?\n$/, ''))) {
          this.notHttp(d, bytes.subarray(i + 1), ref)
          return
        }
        d.startLine = false
        if (d.lineLength === 0) {
          // The empty line ends the header block (RFC 9112 §2.1); a bare LF is tolerated (§2.2).
          const rest = bytes.subarray(i + 1)
          this.headerBlock(d, ref)
          if (rest.length > 0) this.data(d.direction, rest, ref)
          return
        }
        d.lineLength = 0
      } else if (b !== CR) {
        d.lineLength++
      }
    }
  }

  /**
   * The not-HTTP test, byte by byte through the start line: a request line begins with a method
   * token then SP (RFC 9112 §3), a status line with "HTTP/" (§4). Anything else (a TLS record,
   * binary junk) is not HTTP.
   */
  /** This direction's first bytes are not HTTP: an http.not-http issue quoting them, and reading stops. */
  private notHttp(d: DirectionReader, rest: Uint8Array, ref: FrameRef): void {
    const first = new Uint8Array(NOT_HTTP_EVIDENCE)
    const length = Math.min(d.length, NOT_HTTP_EVIDENCE)
    first.set(d.block.subarray(0, length))
    d.notHttp = {issue: this.issue('http.not-http', 'error', '', ref), first, length}
    // Remembered by side: ws.upgrade must quote the side it names (a frame has one sender).
    ;(this.facts.notHttpFrom ??= {})[senderOf(d.direction)] = ref.frame
    d.state = 'done'
    this.notHttpEvidence(d, rest)
  }

  private startLineByteOk(d: DirectionReader, b: number): boolean {
    if (d.prefix < 0) return true // past the first SP
    if (d.direction === 's2c' && d.prefix < HTTP_SLASH.length) {
      if (b !== HTTP_SLASH[d.prefix]) return false
      d.prefix++
      return true
    }
    if (b === SP) {
      if (d.prefix === 0) return false
      d.prefix = -1
      return true
    }
    if (d.direction === 'c2s' ? TCHAR[b] !== 1 : !((b >= 0x30 && b <= 0x39) || b === 0x2e)) return false
    d.prefix++
    return true
  }

  private headerBlock(d: DirectionReader, ref: FrameRef): void {
    const text = Buffer.from(d.block.buffer, d.block.byteOffset, d.length).toString('latin1')
    d.resetBlock()
    const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    const startLine = lines.shift() ?? ''
    const headers = this.parseFields(d.direction, lines, ref)
    if (d.direction === 'c2s') this.request(d, startLine, headers, ref)
    else this.response(d, startLine, headers, ref)
  }

  /** Field lines (RFC 9112 §5): `name: OWS value OWS`; obs-fold is replaced by SP (§5.2). */
  private parseFields(direction: Direction, lines: string[], ref: FrameRef): HttpHeader[] {
    const headers: HttpHeader[] = []
    for (const line of lines) {
      const last = headers[headers.length - 1]
      if (line[0] === ' ' || line[0] === '\t') {
        if (last === undefined) {
          this.issue('http.header-malformed', 'warn', `the ${senderOf(direction)}'s header block starts with a continuation line`, ref)
          continue
        }
        this.issue('http.obs-fold', 'warn', `the ${senderOf(direction)}'s header ${last.name} is folded over lines (obs-fold, RFC 9112 §5.2)`, ref)
        last.value = `${last.value} ${trimOws(line)}`.trim()
        continue
      }
      const colon = line.indexOf(':')
      const name = colon > 0 ? line.slice(0, colon) : ''
      if (!FIELD_NAME.test(name)) {
        // Includes whitespace before the colon, which RFC 9112 §5.1 forbids.
        // Only the name is quoted: `Authorization Bearer …` without its colon has the credential there.
        this.issue('http.header-malformed', 'warn', `a ${senderOf(direction)} header line is not name:value: ${describeHeaderLine(line.slice(0, 80))}`, ref)
        continue
      }
      pushCapped(this.facts, direction === 'c2s' ? 'requestHeaders' : 'responseHeaders', headers, LIST_CAPS.httpHeaders, {name, value: trimOws(line.slice(colon + 1))})
    }
    // Credentials (Authorization, Cookie, Set-Cookie...) are dropped here, after any obs-fold
    // joined their lines: no later layer or report holds them, only their size (src/secrets.ts).
    for (const h of headers) h.value = reportableHeaderValue(h.name, h.value, h.value.length)
    return headers
  }

  private request(d: DirectionReader, startLine: string, headers: HttpHeader[], ref: FrameRef): void {
    const m = REQUEST_LINE.exec(startLine)
    if (!m) {
      this.issue('http.start-line-malformed', 'error', `request line is malformed: ${JSON.stringify(redactUrl(startLine.slice(0, 80)))}`, ref)
      d.state = 'done'
      return
    }
    const key = joined(headers, 'sec-websocket-key')
    const request: HttpUpgradeRequest = {
      frame: ref.frame,
      ts: ref.ts,
      method: m[1]!,
      // A token in the query (`?token=`, `access_token=`) is a credential too.
      path: redactUrl(m[2]!),
      httpVersion: m[3]!,
      headers,
      host: joined(headers, 'host'),
      upgrade: joined(headers, 'upgrade'),
      connection: joined(headers, 'connection'),
      key,
      version: joined(headers, 'sec-websocket-version'),
      protocols: listOf(headers, 'sec-websocket-protocol'),
      extensions: parseExtensions(joined(headers, 'sec-websocket-extensions')),
    }
    this.facts.request = request
    this.facts.permessageDeflate.offered = request.extensions.some((e) => e.name === 'permessage-deflate')
    // RFC 6455 §4.1: the key is a base64-encoded 16-byte nonce.
    if (key !== undefined && !(key.length === 24 && Buffer.from(key, 'base64').length === 16)) {
      this.issue('http.websocket-key-invalid', 'warn', `Sec-WebSocket-Key ${JSON.stringify(key)} is not a base64 16-byte nonce (RFC 6455 §4.1)`, ref)
    }
    const response = this.facts.response
    if (response === undefined) {
      // RFC 6455 §4.1: the client waits for the response before sending more; keep what it sends anyway.
      d.state = 'early'
      return
    }
    if (response.accept !== undefined && key !== undefined) checkAccept(response, key)
    d.state = this.facts.upgraded ? 'upgraded' : 'done'
  }

  private response(d: DirectionReader, startLine: string, headers: HttpHeader[], ref: FrameRef): void {
    const m = STATUS_LINE.exec(startLine)
    if (!m) {
      this.issue('http.start-line-malformed', 'error', `status line is malformed: ${JSON.stringify(startLine.slice(0, 80))}`, ref)
      d.state = 'done'
      return
    }
    const status = Number(m[2])
    // Interim 1xx responses other than 101 precede the final one (RFC 9110 §15.2): read on.
    if (status >= 100 && status < 200 && status !== 101) return
    const response: HttpUpgradeResponse = {
      frame: ref.frame,
      ts: ref.ts,
      httpVersion: m[1]!,
      status,
      reason: m[3] ?? '',
      headers,
      upgrade: joined(headers, 'upgrade'),
      connection: joined(headers, 'connection'),
      accept: joined(headers, 'sec-websocket-accept'),
      protocol: joined(headers, 'sec-websocket-protocol'),
      extensions: parseExtensions(joined(headers, 'sec-websocket-extensions')),
    }
    const key = this.facts.request?.key
    if (response.accept !== undefined && key !== undefined) checkAccept(response, key)
    this.facts.response = response
    const deflate = response.extensions.find((e) => e.name === 'permessage-deflate')
    if (deflate) {
      this.facts.permessageDeflate.accepted = true
      this.facts.permessageDeflate.params = deflate.params
    }
    const websocket = status === 101 && tokens(response.upgrade).includes('websocket')
    if (status === 101 && !websocket) {
      this.issue('http.upgrade-not-websocket', 'warn', `101 response switches to ${JSON.stringify(response.upgrade ?? '')}, not websocket`, ref)
    }
    if (!websocket) {
      d.state = 'done'
      this.c2s.state = this.c2s.state === 'early' ? 'done' : this.c2s.state
      return
    }
    this.facts.upgraded = true
    this.next = this.options.onUpgrade?.(this.facts, ref)
    d.state = 'upgraded'
    const c2s = this.c2s
    if (c2s.state === 'early') {
      c2s.state = 'upgraded'
      if (c2s.earlyLength > 0) this.next?.data('c2s', c2s.early!.subarray(0, c2s.earlyLength), c2s.earlyRef!)
      c2s.early = undefined
    } else if (c2s.state === 'head' && c2s.length === 0) {
      // No request byte seen (the capture began after it): the client's next bytes are frames.
      c2s.state = 'upgraded'
    }
  }

  private keepEarly(d: DirectionReader, bytes: Uint8Array, ref: FrameRef): void {
    if (d.earlyLength + bytes.length > this.maxEarlyBytes) {
      // Replaces the http.early-data an earlier chunk gave: the same issues as when all came in one chunk.
      if (d.earlyIssue !== undefined) this.facts.issues.splice(this.facts.issues.indexOf(d.earlyIssue), 1)
      this.issue('http.early-data-too-large', 'error', `client sent over ${this.maxEarlyBytes} bytes before any response; stopped reading it`, ref)
      d.state = 'done'
      d.early = undefined
      return
    }
    if (d.earlyLength === 0) {
      d.earlyIssue = this.issue('http.early-data', 'warn', 'client sent data after its upgrade request before the response (RFC 6455 §4.1: it must wait)', ref)
      d.earlyRef = ref
      d.early = new Uint8Array(Math.max(bytes.length, 1024))
    } else if (d.earlyLength + bytes.length > d.early!.length) {
      d.early = grow(d.early!, Math.min(Math.max(d.early!.length * 2, d.earlyLength + bytes.length), this.maxEarlyBytes))
    }
    d.early!.set(bytes, d.earlyLength)
    d.earlyLength += bytes.length
  }

  /** Adds bytes to the http.not-http evidence and words its message. */
  private notHttpEvidence(d: DirectionReader, bytes: Uint8Array): void {
    const e = d.notHttp!
    const more = bytes.subarray(0, NOT_HTTP_EVIDENCE - e.length)
    e.first.set(more, e.length)
    e.length += more.length
    const head = Buffer.from(e.first.buffer, e.first.byteOffset, e.length).toString('hex')
    e.issue.message = `the ${senderOf(d.direction)}'s data does not start with an HTTP ${d.direction === 'c2s' ? 'request' : 'status'} line; first bytes ${head}`
  }

  private issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): Issue {
    const issue: Issue = {code, severity, message, frame: ref.frame}
    pushCapped(this.facts, 'issues', this.facts.issues, LIST_CAPS.issuesPerSource, issue)
    return issue
  }
}

function checkAccept(response: HttpUpgradeResponse, key: string): void {
  response.expectedAccept = websocketAccept(key)
  response.acceptValid = response.accept === response.expectedAccept
}

function grow(buf: Uint8Array, size: number): Uint8Array {
  const bigger = new Uint8Array(size)
  bigger.set(buf)
  return bigger
}

/** OWS is SP / HTAB (RFC 9110 §5.6.3). */
function trimOws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '')
}

/** All values of a header (names are case-insensitive), joined with ', ' as RFC 9110 §5.3 allows. */
function joined(headers: HttpHeader[], lowerName: string): string | undefined {
  let out: string | undefined
  for (const h of headers) {
    if (h.name.toLowerCase() === lowerName) out = out === undefined ? h.value : `${out}, ${h.value}`
  }
  return out
}

function listOf(headers: HttpHeader[], lowerName: string): string[] {
  return splitList(joined(headers, lowerName))
}

function splitList(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map(trimOws).filter((s) => s.length > 0)
}

/** Lower-cased tokens of a comma list (Upgrade, Connection compare case-insensitively). */
function tokens(value: string | undefined): string[] {
  return splitList(value).map((s) => s.toLowerCase())
}

/** Sec-WebSocket-Extensions (RFC 6455 §9.1): `ext; param; param=value, ext2`. */
export function parseExtensions(value: string | undefined): WebSocketExtension[] {
  return splitList(value).map((entry) => {
    const [name, ...params] = entry.split(';').map(trimOws)
    return {
      name: name!.toLowerCase(),
      params: params
        .filter((p) => p.length > 0)
        .map((p) => {
          const eq = p.indexOf('=')
          if (eq < 0) return {name: p.toLowerCase()}
          const raw = trimOws(p.slice(eq + 1))
          return {name: trimOws(p.slice(0, eq)).toLowerCase(), value: raw.replace(/^"(.*)"$/, '$1')}
        }),
    }
  })
}
