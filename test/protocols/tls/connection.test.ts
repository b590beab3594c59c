/**
 * TlsConnectionReader on whole real connections (fixtures made with openssl, node and python,
 * plus badcurveball.pcap from the corpus): TlsFacts compared with tshark's decode of the same
 * frames (test/protocols/tls/vectors.json), the same facts wherever segments are split, and gaps.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Direction} from '../../../src/stream/types.js'
import {TlsConnectionReader} from '../../../src/protocols/tls/connection.js'
import {parseCertificate} from '../../../src/protocols/tls/x509.js'
import {ROOT} from '../../helpers/paths.js'
import {directionOf} from './streams.js'
import {fromHex, list, nums, tsharkRecordTypes, vectors, type StreamVector} from './vectors.js'

function run(s: StreamVector, splitAt?: (segment: number) => number | undefined): TlsConnectionReader {
  const reader = new TlsConnectionReader()
  s.segments.forEach((g, i) => {
    const bytes = fromHex(g.hex)
    const ref = {frame: g.frame, ts: g.ts}
    const direction = directionOf(s, g.srcPort)
    const at = splitAt?.(i)
    if (at === undefined) {
      reader.data(direction, bytes, ref)
    } else {
      reader.data(direction, bytes.subarray(0, at), ref)
      reader.data(direction, bytes.subarray(at), ref)
    }
  })
  return reader
}

function rowsOf(s: StreamVector, direction?: Direction) {
  return s.tshark.filter((t) => direction === undefined || directionOf(s, t.srcPort) === direction)
}

for (const s of vectors.streams) {
  describe(`${s.file} stream ${s.stream}`, () => {
    const reader = run(s)
    const facts = reader.facts()

    it('reads without issues', () => {
      expect(reader.issues).toEqual([])
      expect(facts.notTls).toBeUndefined()
    })

    it('lists the records tshark lists, on the same frames', () => {
      const expected = rowsOf(s).flatMap((t) => {
        const types = tsharkRecordTypes(t)
        const lengths = nums(t['tls.record.length'])
        return types.map((contentType, i) => ({frame: t.frame, direction: directionOf(s, t.srcPort), contentType, length: lengths[i]}))
      })
      expect(facts.records.map((r) => ({frame: r.frame, direction: r.direction, contentType: r.contentType, length: r.length}))).toEqual(expected)
      for (const d of ['c2s', 's2c'] as const) {
        expect(facts.totals[d].records).toBe(expected.filter((r) => r.direction === d).length)
        expect(facts.totals[d].applicationData).toBe(expected.filter((r) => r.direction === d && r.contentType === 23).length)
      }
      expect(facts.recordsTruncated).toBe(false)
    })

    it('lists the plaintext handshake messages tshark decodes', () => {
      const expected = rowsOf(s).flatMap((t) => nums(t['tls.handshake.type']).map((type) => ({frame: t.frame, type})))
      expect(facts.handshakeMessages.map((m) => ({frame: m.frame, type: m.type}))).toEqual(expected)
    })

    it('reads the plaintext alerts tshark decodes', () => {
      const expected = rowsOf(s).flatMap((t) => {
        const levels = nums(t['tls.alert_message.level'])
        return nums(t['tls.alert_message.desc']).map((description, i) => ({frame: t.frame, from: directionOf(s, t.srcPort) === 'c2s' ? 'client' : 'server', level: levels[i], description}))
      })
      expect(facts.alerts.map((a) => ({frame: a.frame, from: a.from, level: a.level, description: a.description}))).toEqual(expected)
    })

    it('has the ServerHello, version and cipher tshark shows', () => {
      const sh = vectors.serverHellos.filter((v) => v.file === s.file && v.stream === s.stream)
      const final = sh.find((v) => !v.tshark['_ws.col.Info']!.includes('Hello Retry Request'))
      expect(facts.serverHello?.frame).toBe(final?.frame)
      if (final) {
        expect(facts.cipherSuite).toBe(Number(final.tshark['tls.handshake.ciphersuite']))
        const selected = nums(final.tshark['tls.handshake.extensions.supported_version'])[0]
        expect(facts.version).toBe(selected ?? Number(list(final.tshark['tls.handshake.version'])[0]))
      }
      expect(facts.clientHellos.map((c) => c.frame)).toEqual(vectors.clientHellos.filter((v) => v.file === s.file && v.stream === s.stream).map((v) => v.frame))
    })

    it('notes the first ChangeCipherSpec of each direction', () => {
      for (const d of ['c2s', 's2c'] as const) {
        const first = rowsOf(s, d).find((t) => nums(t['tls.record.content_type']).includes(20))
        expect(facts.changeCipherSpec[d]?.frame).toBe(first?.frame)
      }
    })

    it('reads the plaintext certificates tshark decodes', () => {
      for (const [d, info] of [['s2c', facts.serverCertificate], ['c2s', facts.clientCertificate]] as const) {
        const rows = rowsOf(s, d).filter((t) => nums(t['tls.handshake.type']).includes(11))
        const lengths = rows.flatMap((t) => nums(t['tls.handshake.certificate_length']))
        expect(info?.frame).toBe(rows[0]?.frame)
        expect(info?.certificates.map((c) => Buffer.from(c.derBase64, 'base64').length)).toEqual(rows[0] ? lengths : undefined)
      }
    })

    it('reads the ServerKeyExchange named curve tshark decodes', () => {
      const row = rowsOf(s, 's2c').find((t) => nums(t['tls.handshake.type']).includes(12))
      expect(facts.serverKeyExchange?.frame).toBe(row?.frame)
      expect(facts.serverKeyExchange?.namedCurve).toBe(row ? Number(row['tls.handshake.server_named_curve']) : undefined)
    })
  })
}

describe('TLS 1.2 mutual TLS (fixtures/tls/openssl12-mtls)', () => {
  const s = vectors.streams.find((v) => v.file === 'fixtures/tls/openssl12-mtls/capture.pcap')!
  const facts = run(s).facts()

  it('reads the CertificateRequest: tshark\'s signature algorithms and the Defender CA name', () => {
    const row = rowsOf(s, 's2c').find((t) => nums(t['tls.handshake.type']).includes(13))!
    expect(facts.certificateRequest?.frame).toBe(row.frame)
    // tshark's field also holds the ServerKeyExchange's algorithm (same frame) first.
    expect(facts.certificateRequest?.signatureAlgorithms).toEqual(nums(row['tls.handshake.sig_hash_alg']).slice(1))
    // `openssl x509 -in fixtures/certs/defender-ca.pem -noout -subject -nameopt RFC2253`
    expect(facts.certificateRequest?.authorities).toEqual(['CN=Defender CA,O=defender-check test'])
    const ca = readFileSync(join(ROOT, 'fixtures', 'certs', 'defender-ca.pem'), 'utf8')
    const der = Buffer.from(ca.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
    expect(facts.certificateRequest?.authorities).toEqual([parseCertificate(der).subject])
  })

  it('names the version and cipher', () => {
    expect(facts.versionName).toBe('TLS 1.2')
    expect(facts.cipherSuiteName).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384')
    expect(facts.serverKeyExchange?.namedCurve).toBe(29) // x25519, tshark: server_named_curve 0x001d
  })

  it('reads the client certificate the Defender sent', () => {
    expect(facts.clientCertificate?.from).toBe('client')
    expect(facts.clientCertificate?.certificates[0]?.commonName).toBeDefined()
  })

  it('gives the same facts for every byte split of every segment', () => {
    const whole = JSON.stringify(facts)
    s.segments.forEach((g, i) => {
      for (let at = 1; at < g.hex.length / 2; at++) {
        const split = run(s, (j) => (j === i ? at : undefined))
        expect(split.issues).toEqual([])
        expect(JSON.stringify(split.facts())).toBe(whole)
      }
    })
  }, 120_000)
})

describe('TLS 1.3 with HelloRetryRequest (fixtures/tls/hello-retry)', () => {
  const s = vectors.streams.find((v) => v.file === 'fixtures/tls/hello-retry/capture.pcap')!
  const facts = run(s).facts()

  it('keeps both ClientHellos, the HRR and the ServerHello', () => {
    expect(facts.clientHellos.length).toBe(2)
    expect(facts.helloRetryRequest?.helloRetryRequest).toBe(true)
    expect(facts.serverHello?.helloRetryRequest).toBe(false)
    expect(facts.versionName).toBe('TLS 1.3')
    expect(facts.clientHellos[1]!.keyShareGroups).toEqual([facts.helloRetryRequest!.keyShareGroup])
  })

  it('gives the same facts for every byte split of every segment', () => {
    const whole = JSON.stringify(facts)
    s.segments.forEach((g, i) => {
      for (let at = 1; at < g.hex.length / 2; at++) {
        expect(JSON.stringify(run(s, (j) => (j === i ? at : undefined)).facts())).toBe(whole)
      }
    })
  }, 120_000)
})

describe('gaps, truncation and non-TLS', () => {
  const s = vectors.streams.find((v) => v.file === 'fixtures/tls/openssl12-mtls/capture.pcap')!

  it('stops a direction at a gap with a tls.gap issue and keeps what came before', () => {
    const reader = new TlsConnectionReader()
    const [first, second] = s.segments.filter((g) => directionOf(s, g.srcPort) === 's2c')
    const c2s = s.segments.find((g) => directionOf(s, g.srcPort) === 'c2s')!
    reader.data('c2s', fromHex(c2s.hex), {frame: c2s.frame, ts: c2s.ts})
    // 20 bytes: the ServerHello record is cut before its end when the gap comes.
    reader.data('s2c', fromHex(first!.hex).subarray(0, 20), {frame: first!.frame, ts: first!.ts})
    reader.gap('s2c', 1000, {frame: second!.frame, ts: second!.ts})
    reader.data('s2c', fromHex(second!.hex), {frame: second!.frame, ts: second!.ts})
    expect(reader.issues.map((i) => i.code)).toEqual(['tls.gap'])
    const facts = reader.facts()
    expect(facts.clientHellos.length).toBe(1)
    expect(facts.serverHello).toBeUndefined()
    expect(facts.totals.s2c.records).toBe(0)
  })

  it('reports a stream that ends inside a record', () => {
    const reader = new TlsConnectionReader()
    const c2s = s.segments.find((g) => directionOf(s, g.srcPort) === 'c2s')!
    reader.data('c2s', fromHex(c2s.hex).subarray(0, 50), {frame: c2s.frame, ts: c2s.ts})
    reader.end('c2s', {frame: 99, ts: 0})
    expect(reader.issues.map((i) => i.code)).toEqual(['tls.truncated'])
    expect(reader.facts().clientHellos).toEqual([])
  })

  it('turns a malformed ClientHello into an issue, for every truncation of a real one', () => {
    const c2s = fromHex(s.segments.find((g) => directionOf(s, g.srcPort) === 'c2s')!.hex)
    const recordLength = (c2s[3]! << 8) | c2s[4]!
    const body = c2s.subarray(9, 5 + recordLength)
    // RFC 5246 §7.4.1.2: a ClientHello may end after compression_methods (no extensions); that cut is valid.
    let valid = 34
    valid += 1 + body[valid]!
    valid += 2 + ((body[valid]! << 8) | body[valid + 1]!)
    valid += 1 + body[valid]!
    for (let cut = 0; cut < body.length; cut++) {
      if (cut === valid) continue
      // A ClientHello message whose length field says `cut` bytes, in a record of the right size.
      const message = Buffer.concat([Uint8Array.of(1, 0, cut >> 8, cut & 0xff), body.subarray(0, cut)])
      const record = Buffer.concat([Uint8Array.of(22, 3, 1, message.length >> 8, message.length & 0xff), message])
      const reader = new TlsConnectionReader()
      reader.data('c2s', record, {frame: 4, ts: 0})
      expect(reader.issues.map((i) => [i.code, i.frame])).toEqual([['tls.malformed-handshake', 4]])
      expect(reader.facts().handshakeMessages.length).toBe(1)
    }
  })

  it('says a plaintext HTTP stream is not TLS', () => {
    const reader = new TlsConnectionReader()
    // An HTTP/1.1 request line (RFC 9112 §3).
    reader.data('c2s', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), {frame: 4, ts: 1.5})
    expect(reader.facts().notTls).toEqual({direction: 'c2s', frame: 4, ts: 1.5, firstBytes: Buffer.from('GET / HTTP/1.1\r\n').toString('hex')})
  })
})
