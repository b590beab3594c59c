/**
 * Message parsers on real bodies (from the fixtures' TLS 1.2 handshakes) and on every
 * truncation of them: a short or lying input is a TlsParseError with an offset, never a
 * RangeError or a wrong answer.
 */
import {describe, expect, it} from 'vitest'
import {parseAlerts} from '../../../src/protocols/tls/alert.js'
import {parseCertificate12, parseCertificate13} from '../../../src/protocols/tls/certificate.js'
import {parseCertificateRequest12, parseCertificateRequest13} from '../../../src/protocols/tls/certificate-request.js'
import {parseClientHello} from '../../../src/protocols/tls/client-hello.js'
import {TlsParseError} from '../../../src/protocols/tls/errors.js'
import {parseServerHello} from '../../../src/protocols/tls/server-hello.js'
import {parseEcdheServerKeyExchange} from '../../../src/protocols/tls/server-key-exchange.js'
import {handshakeMessagesOf} from './feed.js'
import {directionBytes, streamVector} from './streams.js'
import {fromHex, nums, vectors} from './vectors.js'

const mtls = streamVector('fixtures/tls/openssl12-mtls/capture.pcap')
const serverFlight = handshakeMessagesOf(directionBytes(mtls, 's2c'), true)
const body = (type: number): Uint8Array => serverFlight.find((m) => m.type === type)!.body

/** Every proper prefix of `bytes` must throw a TlsParseError (or parse, if `validAt` says so). */
function expectTruncationsRejected(bytes: Uint8Array, parse: (b: Uint8Array) => unknown, validAt: (n: number) => boolean = () => false): void {
  for (let n = 0; n < bytes.length; n++) {
    const prefix = bytes.slice(0, n)
    if (validAt(n)) continue
    let error: unknown
    try {
      parse(prefix)
    } catch (e) {
      error = e
    }
    expect(error, `prefix of ${n} bytes`).toBeInstanceOf(TlsParseError)
    expect((error as TlsParseError).offset).toBeLessThanOrEqual(n)
  }
}

describe('Certificate (TLS 1.2, RFC 5246 §7.4.2)', () => {
  it('lists the DER certificates with the lengths tshark shows', () => {
    const row = mtls.tshark.find((t) => t.srcPort !== mtls.clientPort && nums(t['tls.handshake.type']).includes(11))!
    const message = parseCertificate12(body(11))
    expect(message.entries.map((e) => e.der.length)).toEqual(nums(row['tls.handshake.certificate_length']))
    expect(message.entries.every((e) => e.der[0] === 0x30)).toBe(true) // DER SEQUENCE
  })

  it('rejects every truncation', () => {
    // A shorter certificate_list length that still frames whole certificates is caught as trailing bytes too.
    expectTruncationsRejected(body(11), parseCertificate12)
  })

  it('rejects an empty ASN.1Cert', () => {
    expect(() => parseCertificate12(Uint8Array.of(0, 0, 3, 0, 0, 0))).toThrow(TlsParseError)
  })
})

describe('Certificate (TLS 1.3, RFC 8446 §4.4.2)', () => {
  // The TLS 1.3 layout built around the real certificates of the fixture above.
  const ders = parseCertificate12(body(11)).entries.map((e) => e.der)
  const u24 = (n: number) => Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff)
  const entries = Buffer.concat(ders.flatMap((d, i) => (i === 0 ? [u24(d.length), d, Uint8Array.of(0, 4, 0, 5, 0, 0)] : [u24(d.length), d, Uint8Array.of(0, 0)])))
  const message = Buffer.concat([Uint8Array.of(2, 0xab, 0xcd), u24(entries.length), entries])

  it('reads the request context, the certificates and their extensions', () => {
    const parsed = parseCertificate13(message)
    expect(Buffer.from(parsed.requestContext!).toString('hex')).toBe('abcd')
    expect(parsed.entries.map((e) => Buffer.from(e.der).toString('hex'))).toEqual(ders.map((d) => Buffer.from(d).toString('hex')))
    expect(parsed.entries.map((e) => e.extensions)).toEqual([[5], ...ders.slice(1).map(() => [])])
  })

  it('rejects every truncation', () => {
    expectTruncationsRejected(message, parseCertificate13)
  })
})

describe('CertificateRequest', () => {
  it('TLS 1.2: reads certificate types like tshark (RSA sign, DSS sign, ECDSA sign)', () => {
    const row = mtls.tshark.find((t) => nums(t['tls.handshake.type']).includes(13))!
    expect(parseCertificateRequest12(body(13)).certificateTypes).toEqual(nums(row['tls.handshake.cert_type']))
    expect(parseCertificateRequest12(body(13)).certificateTypes).toEqual([1, 2, 64])
  })

  it('TLS 1.2: rejects every truncation', () => {
    expectTruncationsRejected(body(13), parseCertificateRequest12)
  })

  it('TLS 1.3: reads signature_algorithms and certificate_authorities extensions (RFC 8446 §4.3.2)', () => {
    const tls12 = body(13)
    // Reuse the fixture's real signature list and CA name inside the TLS 1.3 layout.
    const typesLength = tls12[0]!
    const sigsAt = 1 + typesLength
    const sigs = tls12.subarray(sigsAt, sigsAt + 2 + ((tls12[sigsAt]! << 8) | tls12[sigsAt + 1]!))
    const cas = tls12.subarray(sigsAt + sigs.length)
    const ext = (type: number, data: Uint8Array) => Buffer.concat([Uint8Array.of(type >> 8, type & 0xff, data.length >> 8, data.length & 0xff), data])
    const exts = Buffer.concat([ext(13, sigs), ext(47, cas)])
    const message = Buffer.concat([Uint8Array.of(0, exts.length >> 8, exts.length & 0xff), exts])
    const parsed = parseCertificateRequest13(message)
    expect(parsed.extensions).toEqual([13, 47])
    expect(parsed.signatureAlgorithms).toEqual(parseCertificateRequest12(tls12).signatureAlgorithms)
    expect(parsed.authorities).toEqual(['CN=Defender CA,O=defender-check test'])
    expectTruncationsRejected(message, parseCertificateRequest13)
  })
})

describe('ServerKeyExchange (RFC 8422 §5.4)', () => {
  it('reads the named curve tshark shows', () => {
    const row = mtls.tshark.find((t) => nums(t['tls.handshake.type']).includes(12))!
    expect(parseEcdheServerKeyExchange(body(12)).namedCurve).toBe(Number(row['tls.handshake.server_named_curve']))
    expect(parseEcdheServerKeyExchange(body(12)).publicKeyLength).toBe(32) // x25519 public key
  })

  it('rejects explicit curves and truncations', () => {
    expect(() => parseEcdheServerKeyExchange(Uint8Array.of(1, 0, 0))).toThrow(TlsParseError)
    expectTruncationsRejected(body(12).subarray(0, 4 + 32), parseEcdheServerKeyExchange)
  })
})

describe('ClientHello / ServerHello truncations', () => {
  it('rejects every truncation of every corpus ClientHello, except the one valid cut before extensions', () => {
    for (const v of vectors.clientHellos.slice(0, 40)) {
      const b = handshakeMessagesOf(fromHex(v.hex)).find((m) => m.type === 1)!.body
      let end = 34
      end += 1 + b[end]!
      end += 2 + ((b[end]! << 8) | b[end + 1]!)
      end += 1 + b[end]!
      expectTruncationsRejected(b, parseClientHello, (n) => n === end)
      expect(parseClientHello(b.slice(0, end)).extensions).toEqual([])
    }
  })

  it('rejects every truncation of every corpus ServerHello, except the one valid cut before extensions', () => {
    for (const v of vectors.serverHellos.slice(0, 40)) {
      const b = handshakeMessagesOf(fromHex(v.hex)).find((m) => m.type === 2)!.body
      const end = 34 + 1 + b[34]! + 3
      expectTruncationsRejected(b, parseServerHello, (n) => n === end)
    }
  })
})

describe('alerts (RFC 8446 §6)', () => {
  it('reads level and description by name (the fixture expired: fatal certificate_expired)', () => {
    const s = streamVector('fixtures/tls/expired/capture.pcap')
    const row = s.tshark.find((t) => t['tls.alert_message.desc'])!
    const parsed = parseAlerts(Uint8Array.of(Number(row['tls.alert_message.level']), Number(row['tls.alert_message.desc'])))
    expect(parsed).toEqual([{level: 2, description: 45, descriptionName: 'certificate_expired'}])
    // RFC 8446 §6: certificate_required(116) is what a server sends when mTLS lacks a client certificate.
    expect(parseAlerts(Uint8Array.of(2, 116))[0]!.descriptionName).toBe('certificate_required')
  })

  it('rejects odd and empty alert records', () => {
    expect(() => parseAlerts(Uint8Array.of())).toThrow(TlsParseError)
    expect(() => parseAlerts(Uint8Array.of(2))).toThrow(TlsParseError)
    expect(() => parseAlerts(Uint8Array.of(2, 40, 1))).toThrow(TlsParseError)
  })
})
