import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {HttpUpgradeReader, parseExtensions, websocketAccept} from '../../../src/protocols/http/upgrade.js'
import type {HttpUpgradeFacts} from '../../../src/protocols/http/types.js'
import type {Direction, FrameRef, StreamHandler} from '../../../src/stream/types.js'
import {STREAMS, capture, chunks, feed, oneByteAtATime, type Chunk} from '../websocket/streams.js'

/** RFC 6455 §1.2: the client handshake of the protocol overview, with CRLF line ends. */
const RFC6455_REQUEST = [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Origin: http://example.com',
  'Sec-WebSocket-Protocol: chat, superchat',
  'Sec-WebSocket-Version: 13',
  '',
  '',
].join('\r\n')

/** RFC 6455 §1.2: the server handshake answering it. */
const RFC6455_RESPONSE = [
  'HTTP/1.1 101 Switching Protocols',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
  'Sec-WebSocket-Protocol: chat',
  '',
  '',
].join('\r\n')

const REF: FrameRef = {frame: 1, ts: 1}
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1')

/** A reader whose upgraded bytes are collected per direction. */
function reader(options: {maxHeaderBytes?: number; maxEarlyBytes?: number} = {}) {
  const handedOn: Record<Direction, Buffer[]> = {c2s: [], s2c: []}
  const upgradedAt: FrameRef[] = []
  const next: StreamHandler = {data: (d, b) => handedOn[d].push(Buffer.from(b))}
  const r = new HttpUpgradeReader({...options, onUpgrade: (_facts, ref) => (upgradedAt.push(ref), next)})
  return {r, handedOn, upgradedAt}
}

function parseRfc(split: (s: string) => string[] = (s) => [s]) {
  const {r, handedOn} = reader()
  for (const part of split(RFC6455_REQUEST)) r.data('c2s', bytes(part), REF)
  for (const part of split(RFC6455_RESPONSE)) r.data('s2c', bytes(part), REF)
  return {facts: r.facts, handedOn}
}

describe('websocketAccept', () => {
  it('gives the RFC 6455 §1.3 example: dGhlIHNhbXBsZSBub25jZQ== → s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', () => {
    expect(websocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  })
})

describe('HttpUpgradeReader on the RFC 6455 §1.2 handshake', () => {
  it('reads the request and the response and verifies the accept', () => {
    const {facts} = parseRfc()
    expect(facts.request).toMatchObject({
      method: 'GET',
      path: '/chat',
      httpVersion: 'HTTP/1.1',
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      version: '13',
      protocols: ['chat', 'superchat'],
      extensions: [],
    })
    expect(facts.request!.headers).toHaveLength(7)
    expect(facts.request!.headers[4]).toEqual({name: 'Origin', value: 'http://example.com'})
    expect(facts.response).toMatchObject({
      status: 101,
      reason: 'Switching Protocols',
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      acceptValid: true,
      protocol: 'chat',
    })
    expect(facts.upgraded).toBe(true)
    expect(facts.permessageDeflate).toEqual({offered: false, accepted: false})
    expect(facts.issues).toEqual([])
  })

  it('gives the same facts split at every byte boundary and one byte at a time', () => {
    const whole = parseRfc().facts
    for (let cut = 1; cut < Math.max(RFC6455_REQUEST.length, RFC6455_RESPONSE.length); cut++) {
      expect(parseRfc((s) => [s.slice(0, cut), s.slice(cut)]).facts).toEqual(whole)
    }
    expect(parseRfc((s) => [...s]).facts).toEqual(whole)
  })

  it('tolerates bare LF line ends (RFC 9112 §2.2)', () => {
    const {r} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST.replaceAll('\r\n', '\n')), REF)
    expect(r.facts.request).toEqual(parseRfc().facts.request)
    expect(r.facts.issues).toEqual([])
  })

  it('ignores empty lines before the request line (RFC 9112 §2.2)', () => {
    const {r} = reader()
    r.data('c2s', bytes(`\r\n${RFC6455_REQUEST}`), REF)
    expect(r.facts.request).toEqual(parseRfc().facts.request)
    expect(r.facts.issues).toEqual([])
  })

  it('unfolds obs-fold with an issue (RFC 9112 §5.2)', () => {
    const {r} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST.replace('chat, superchat', 'chat,\r\n superchat')), REF)
    expect(r.facts.request!.protocols).toEqual(['chat', 'superchat'])
    expect(r.facts.issues.map((i) => i.code)).toEqual(['http.obs-fold'])
  })

  it('flags whitespace between a field name and its colon (RFC 9112 §5.1) and skips the line', () => {
    const {r} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST.replace('Origin:', 'Origin :')), REF)
    expect(r.facts.request!.headers.map((h) => h.name)).not.toContain('Origin')
    expect(r.facts.issues.map((i) => i.code)).toEqual(['http.header-malformed'])
  })

  it('keeps repeated headers and matches names case-insensitively', () => {
    const {r} = reader()
    const request = RFC6455_REQUEST.replace('Sec-WebSocket-Protocol: chat, superchat', 'sec-websocket-protocol: chat\r\nSEC-WEBSOCKET-PROTOCOL: superchat')
    r.data('c2s', bytes(request), REF)
    expect(r.facts.request!.protocols).toEqual(['chat', 'superchat'])
    expect(r.facts.request!.headers.filter((h) => h.name.toLowerCase() === 'sec-websocket-protocol')).toHaveLength(2)
  })

  it('reports a wrong Sec-WebSocket-Accept with the value expected', () => {
    const {r, upgradedAt} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST), REF)
    r.data('s2c', bytes(RFC6455_RESPONSE.replace('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'dGhlIHNhbXBsZSBub25jZQ==')), REF)
    expect(r.facts.response).toMatchObject({acceptValid: false, expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='})
    // Whether a bad accept fails the upgrade is the ws.upgrade check's call; the frames are still read.
    expect(upgradedAt).toHaveLength(1)
  })

  it('skips an interim 100 response and reads the 101 after it (RFC 9110 §15.2)', () => {
    const {r} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST), REF)
    r.data('s2c', bytes(`HTTP/1.1 100 Continue\r\n\r\n${RFC6455_RESPONSE}`), REF)
    expect(r.facts.response!.status).toBe(101)
    expect(r.facts.upgraded).toBe(true)
  })

  it('does not upgrade on a refusal and drops what follows', () => {
    const {r, handedOn, upgradedAt} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST), REF)
    r.data('c2s', bytes('more'), REF)
    r.data('s2c', bytes('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'), REF)
    r.data('s2c', bytes('HTTP/1.1 200 OK\r\n\r\n'), REF)
    expect(r.facts.response).toMatchObject({status: 403, reason: 'Forbidden'})
    expect(r.facts.upgraded).toBe(false)
    expect(upgradedAt).toEqual([])
    expect(handedOn).toEqual({c2s: [], s2c: []})
  })

  it('flags a 101 that switches to something else than websocket', () => {
    const {r, upgradedAt} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST), REF)
    r.data('s2c', bytes(RFC6455_RESPONSE.replace('Upgrade: websocket', 'Upgrade: h2c')), REF)
    expect(r.facts.upgraded).toBe(false)
    expect(upgradedAt).toEqual([])
    expect(r.facts.issues.map((i) => i.code)).toEqual(['http.upgrade-not-websocket'])
  })

  it('keeps client bytes sent before the response and hands them on after the 101', () => {
    const {r, handedOn} = reader()
    r.data('c2s', bytes(`${RFC6455_REQUEST}early`), {frame: 3, ts: 3})
    r.data('c2s', bytes('!'), {frame: 4, ts: 4})
    expect(handedOn.c2s).toEqual([])
    r.data('s2c', bytes(`${RFC6455_RESPONSE}srv`), {frame: 5, ts: 5})
    expect(Buffer.concat(handedOn.c2s).toString()).toBe('early!')
    expect(Buffer.concat(handedOn.s2c).toString()).toBe('srv')
    expect(r.facts.issues).toEqual([expect.objectContaining({code: 'http.early-data', frame: 3})])
  })

  it('stops keeping early client bytes at maxEarlyBytes', () => {
    const {r, handedOn} = reader({maxEarlyBytes: 4})
    r.data('c2s', bytes(`${RFC6455_REQUEST}early`), REF)
    r.data('s2c', bytes(RFC6455_RESPONSE), REF)
    expect(handedOn.c2s).toEqual([])
    expect(r.facts.issues.map((i) => i.code)).toEqual(['http.early-data-too-large'])
  })

  it('reports a stream that ends inside a header block', () => {
    const {r} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST.slice(0, 40)), REF)
    r.end('both', {frame: 9, ts: 9})
    expect(r.facts.request).toBeUndefined()
    expect(r.facts.issues).toEqual([expect.objectContaining({code: 'http.truncated', frame: 9})])
  })

  it('stops a direction at a gap in its handshake', () => {
    const {r} = reader()
    r.data('c2s', bytes(RFC6455_REQUEST.slice(0, 40)), REF)
    r.gap('c2s', 100, {frame: 2, ts: 2})
    r.data('c2s', bytes(RFC6455_REQUEST.slice(140)), REF)
    expect(r.facts.request).toBeUndefined()
    expect(r.facts.issues.map((i) => i.code)).toEqual(['http.gap'])
  })
})

describe('parseExtensions', () => {
  it('reads names and parameters (RFC 6455 §9.1 grammar, RFC 7692 §7 parameters)', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-webkit-deflate-frame')).toEqual([
      {name: 'permessage-deflate', params: [{name: 'client_max_window_bits'}, {name: 'server_max_window_bits', value: '10'}]},
      {name: 'x-webkit-deflate-frame', params: []},
    ])
  })
})

/** "Name: value" lines as tshark lists them. */
const headerLines = (headers: Array<{name: string; value: string}>): string[] => headers.map((h) => `${h.name}: ${h.value}`)

function readCapture(list: Chunk[], split?: (i: number, length: number) => number[], maxHeaderBytes?: number) {
  const {r, handedOn, upgradedAt} = reader({maxHeaderBytes})
  feed(r, list, split)
  // A digest of what was handed on keeps the many split runs cheap to compare.
  const digest = (d: Direction) => createHash('sha256').update(Buffer.concat(handedOn[d])).digest('hex')
  return {facts: r.facts as HttpUpgradeFacts, handedOn: {c2s: digest('c2s'), s2c: digest('s2c')}, upgradedAt}
}

describe('HttpUpgradeReader on real captures (fixtures/ws), against tshark -Y http', () => {
  for (const streams of STREAMS) {
    describe(streams.capture, () => {
      const list = chunks(streams)
      const request = streams.tshark.http.find((m) => m.kind === 'request')!
      const response = streams.tshark.http.find((m) => m.kind === 'response')!

      it('reads the request as tshark does', () => {
        const {facts} = readCapture(list)
        expect(facts.request).toMatchObject({
          frame: request.frame,
          method: request.method,
          path: request.uri,
          httpVersion: request.version,
          host: request.host,
          upgrade: request.upgrade,
          connection: request.connection,
          key: request.secWebSocketKey,
          version: request.secWebSocketVersion,
        })
        expect(headerLines(facts.request!.headers)).toEqual(request.headers)
        expect(facts.permessageDeflate.offered).toBe(request.secWebSocketExtensions!.includes('permessage-deflate'))
      })

      it('reads the 101 as tshark does and checks its accept', () => {
        const {facts, upgradedAt} = readCapture(list)
        expect(facts.response).toMatchObject({
          frame: response.frame,
          status: response.code,
          reason: response.phrase,
          httpVersion: response.version,
          upgrade: response.upgrade,
          connection: response.connection,
          accept: response.secWebSocketAccept,
          // The server's own SHA-1 (node ws) agrees with ours.
          expectedAccept: response.secWebSocketAccept,
          acceptValid: true,
        })
        expect(headerLines(facts.response!.headers)).toEqual(response.headers)
        expect(facts.permessageDeflate.accepted).toBe(response.secWebSocketExtensions?.startsWith('permessage-deflate') ?? false)
        expect(facts.upgraded).toBe(true)
        expect(upgradedAt).toEqual([{frame: response.frame, ts: list.find((c) => c.frame === response.frame)!.ts}])
        expect(facts.issues).toEqual([])
      })

      it('hands on exactly the bytes after the two header blocks', () => {
        const {handedOn} = readCapture(list)
        // Each header block filled its own segment: what follows is every later segment.
        for (const [direction, after] of [['c2s', request.frame], ['s2c', response.frame]] as const) {
          const expected = Buffer.concat(list.filter((c) => c.direction === direction && c.frame > after).map((c) => c.bytes))
          expect(handedOn[direction]).toBe(createHash('sha256').update(expected).digest('hex'))
        }
      })

      it('gives the same result one byte at a time and split at every boundary of the handshake segments', () => {
        const whole = readCapture(list)
        expect(readCapture(list, oneByteAtATime)).toEqual(whole)
        for (const frame of [request.frame, response.frame]) {
          const index = list.findIndex((c) => c.frame === frame)
          for (let cut = 1; cut < list[index]!.bytes.length; cut++) {
            expect(readCapture(list, (i) => (i === index ? [cut] : []))).toEqual(whole)
          }
        }
      })

      it('stops at maxHeaderBytes with http.headers-too-large', () => {
        const {facts} = readCapture(list, undefined, 64)
        expect(facts.request).toBeUndefined()
        expect(facts.response).toBeUndefined()
        expect(facts.issues.map((i) => [i.code, i.frame])).toEqual([
          ['http.headers-too-large', request.frame],
          ['http.headers-too-large', response.frame],
        ])
      })
    })
  }

  it('calls WebSocket frames not HTTP (http.not-http with the first bytes)', () => {
    // The first WebSocket frame each side sent in the cleartext capture, given as if it opened the stream.
    const streams = capture('cleartext')
    const response = streams.tshark.http.find((m) => m.kind === 'response')!
    const firstFrames = chunks(streams).filter((c) => c.frame > response.frame)
    for (const direction of ['c2s', 's2c'] as const) {
      const {r} = reader()
      const first = firstFrames.find((c) => c.direction === direction)!
      r.data(direction, first.bytes, first)
      expect(r.facts.issues).toHaveLength(1)
      expect(r.facts.issues[0]).toMatchObject({code: 'http.not-http', severity: 'error', frame: first.frame})
      expect(r.facts.issues[0]!.message).toContain(Buffer.from(first.bytes.subarray(0, 2)).toString('hex'))
    }
  })
})
