/**
 * TLS readers and parsers on mutated real TLS streams (fixtures and corpus, test/protocols/tls/vectors.json):
 * the record and handshake readers give the same records/messages wherever the input splits;
 * the message parsers let nothing but TlsParseError escape; the connection reader never throws
 * and its facts do not depend on chunking. All within bounded time.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {parseAlerts} from '../../src/protocols/tls/alert.js'
import {parseCertificateRequest12, parseCertificateRequest13} from '../../src/protocols/tls/certificate-request.js'
import {parseCertificate12, parseCertificate13} from '../../src/protocols/tls/certificate.js'
import {parseClientHello} from '../../src/protocols/tls/client-hello.js'
import {TlsConnectionReader} from '../../src/protocols/tls/connection.js'
import {TlsParseError} from '../../src/protocols/tls/errors.js'
import {HandshakeReader} from '../../src/protocols/tls/handshake.js'
import {TlsRecordReader} from '../../src/protocols/tls/record.js'
import {parseServerHello} from '../../src/protocols/tls/server-hello.js'
import {parseEcdheServerKeyExchange} from '../../src/protocols/tls/server-key-exchange.js'
import type {FrameRef} from '../../src/stream/types.js'
import {handshakeMessagesOf} from '../protocols/tls/feed.js'
import {directionBytes, directionOf, streamVector} from '../protocols/tls/streams.js'
import {fromHex, vectors} from '../protocols/tls/vectors.js'
import {applyEdits, editArb, mutatedArb, params, piecesOf, splitsArb, timed} from './support.js'

const REF: FrameRef = {frame: 1, ts: 0}

/** Both directions of every stream vector: real TLS 1.2 and 1.3 handshakes, mTLS, HRR, alerts. */
const STREAMS: Record<string, Uint8Array> = {}
for (const s of vectors.streams) {
  const name = s.file.split('/').slice(-2).join('/')
  for (const direction of ['c2s', 's2c'] as const) STREAMS[`${name} ${direction}`] = directionBytes(streamVector(s.file), direction)
}

/** Plaintext handshake messages of those streams, by type. */
const MESSAGES: Array<{type: number; body: Uint8Array}> = Object.values(STREAMS).flatMap((bytes) => {
  try {
    return handshakeMessagesOf(bytes, true)
  } catch {
    return []
  }
})

function records(pieces: Uint8Array[]): string[] {
  const out: string[] = []
  const reader = new TlsRecordReader({
    record: (r) => out.push(`record ${r.contentType} ${r.version} ${Buffer.from(r.fragment).toString('hex')}`),
    malformed: (code, message) => out.push(`malformed ${code} ${message}`),
  })
  for (const piece of pieces) reader.push(piece, REF)
  const notTls = reader.notTls
  out.push(`pending ${reader.pendingBytes} stopped ${reader.stopped} notTls ${notTls ? Buffer.from(notTls.firstBytes).toString('hex') : '-'}`)
  return out
}

function messages(pieces: Uint8Array[], max?: number): string[] {
  const out: string[] = []
  const reader = new HandshakeReader(
    {message: (m) => out.push(`message ${m.type} ${Buffer.from(m.body).toString('hex')}`), malformed: (code, message) => out.push(`malformed ${code} ${message}`)},
    max,
  )
  for (const piece of pieces) reader.push(piece, REF)
  out.push(`pending ${reader.pendingBytes} stopped ${reader.stopped}`)
  return out
}

const PARSERS: Array<[string, (body: Uint8Array) => unknown]> = [
  ['ClientHello', parseClientHello],
  ['ServerHello', parseServerHello],
  ['Certificate (1.2)', parseCertificate12],
  ['Certificate (1.3)', parseCertificate13],
  ['CertificateRequest (1.2)', parseCertificateRequest12],
  ['CertificateRequest (1.3)', parseCertificateRequest13],
  ['ServerKeyExchange', parseEcdheServerKeyExchange],
  ['alerts', parseAlerts],
]

describe('TLS record and handshake readers: splitting the input anywhere yields the same output', () => {
  it('TlsRecordReader', () => {
    fc.assert(
      fc.property(mutatedArb(STREAMS, 4), splitsArb(6), ([, bytes], splits) => {
        const whole = timed('record reader', () => records([bytes]))
        expect(records(piecesOf(bytes, splits))).toEqual(whole)
      }),
      params(500),
    )
  })

  it('HandshakeReader, with and without a small message limit', () => {
    const bodies = MESSAGES.map((m) => Uint8Array.from([m.type, m.body.length >> 16, (m.body.length >> 8) & 0xff, m.body.length & 0xff, ...m.body]))
    const joined: Record<string, Uint8Array> = {all: Buffer.concat(bodies), first: bodies[0]!}
    fc.assert(
      fc.property(mutatedArb(joined, 4), splitsArb(6), fc.constantFrom(undefined, 64, 1000), ([, bytes], splits, max) => {
        const whole = timed('handshake reader', () => messages([bytes], max))
        expect(messages(piecesOf(bytes, splits), max)).toEqual(whole)
      }),
      params(300),
    )
  })
})

describe('TLS message parsers let only TlsParseError escape', () => {
  it.each(PARSERS)('%s on mutated real handshake message bodies', (_name, parse) => {
    expect(MESSAGES.length).toBeGreaterThan(20)
    fc.assert(
      fc.property(fc.integer({min: 0, max: MESSAGES.length - 1}), fc.array(editArb, {maxLength: 5}), (i, edits) => {
        const body = applyEdits(MESSAGES[i]!.body, edits)
        try {
          timed('parse', () => parse(body))
        } catch (err) {
          if (!(err instanceof TlsParseError)) throw err
          expect(err.offset).toBeGreaterThanOrEqual(0)
          expect(err.offset).toBeLessThanOrEqual(body.length)
        }
      }),
      params(300),
    )
  })
})

describe('TlsConnectionReader', () => {
  const pairs = vectors.streams.map((s) => [s.file, directionBytes(streamVector(s.file), 'c2s'), directionBytes(streamVector(s.file), 's2c')] as const)

  function facts(c2s: Uint8Array, s2c: Uint8Array): void {
    const reader = new TlsConnectionReader()
    reader.data('c2s', c2s, REF)
    reader.data('s2c', s2c, REF)
    reader.end('both', REF)
    reader.facts()
  }

  it('never throws on mutated real connections, in bounded time', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: pairs.length - 1}), fc.array(editArb, {maxLength: 4}), fc.array(editArb, {maxLength: 4}), (i, e1, e2) => {
        const [, c2s, s2c] = pairs[i]!
        timed('connection reader', () => facts(applyEdits(c2s, e1), applyEdits(s2c, e2)))
      }),
      params(300),
    )
  })

  it('gives the same facts wherever the real segments are split further', () => {
    // The capture's own segments in TCP order keep the order between the directions; each is cut
    // again at up to two points.
    const segmented = vectors.streams.map((s) => s.segments.map((g) => ({direction: directionOf(s, g.srcPort), bytes: fromHex(g.hex)})))
    function run(segments: Array<{direction: 'c2s' | 's2c'; bytes: Uint8Array}>, cuts: number[][]): string {
      const reader = new TlsConnectionReader()
      segments.forEach((g, i) => {
        for (const piece of piecesOf(g.bytes, cuts[i] ?? [])) reader.data(g.direction, piece, REF)
      })
      reader.end('both', REF)
      return JSON.stringify({facts: reader.facts(), issues: reader.issues})
    }
    fc.assert(
      fc.property(fc.integer({min: 0, max: segmented.length - 1}), fc.array(splitsArb(2), {maxLength: 12}), (i, cuts) => {
        expect(run(segmented[i]!, cuts)).toBe(run(segmented[i]!, []))
      }),
      params(300),
    )
  })
})
