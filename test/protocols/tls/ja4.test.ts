/**
 * JA4 unit vectors from the specification (FoxIO technical_details/JA4.md: "Example", "Raw
 * Output", "ALPN Extension Value", "Extension hash") and GREASE recognition (RFC 8701 §2).
 */
import {describe, expect, it} from 'vitest'
import type {ClientHello} from '../../../src/protocols/tls/client-hello.js'
import {isGrease} from '../../../src/protocols/tls/grease.js'
import {ja4, ja4Alpn} from '../../../src/protocols/tls/ja4.js'

const hex = (list: string): number[] => list.split(',').map((h) => parseInt(h, 16))

/** The ClientHello of JA4.md's example: its cipher, extension and signature lists, TLS 1.3, ALPN h2. */
const example: ClientHello = {
  legacyVersion: 0x0303,
  random: '00'.repeat(32),
  sessionIdLength: 32,
  cipherSuites: [0x0a0a, ...hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035')],
  compressionMethods: [0],
  extensions: [0x1a1a, ...hex('001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015'), 0x2a2a],
  sni: 'example.com',
  alpn: ['h2', 'http/1.1'],
  supportedVersions: [0x3a3a, 0x0304, 0x0303],
  signatureAlgorithms: hex('0403,0804,0401,0503,0805,0501,0806,0601'),
  offersTls13: true,
  grease: true,
}

describe('JA4 (JA4.md examples)', () => {
  it('gives the documented fingerprint and raw form', () => {
    expect(ja4(example)).toEqual({
      ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
      ja4r: 't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
    })
  })

  it('ends the string without an underscore when there are no signature algorithms (documented hash 6d807ffa2a79)', () => {
    const {signatureAlgorithms: _, ...rest} = example
    expect(ja4(rest).ja4).toBe('t13d1516h2_8daaf6152771_6d807ffa2a79')
  })

  it("uses 'i' without SNI and the legacy version without supported_versions", () => {
    const got = ja4({...example, extensions: example.extensions.filter((e) => e !== 0 && e !== 43), supportedVersions: undefined})
    expect(got.ja4.slice(0, 10)).toBe('t12i1514h2')
  })

  it('caps counts at 99 and prints 000000000000 for empty lists', () => {
    const many = {...example, cipherSuites: Array.from({length: 120}, (_, i) => i + 1), extensions: [], alpn: undefined, signatureAlgorithms: undefined, supportedVersions: undefined}
    const got = ja4(many)
    expect(got.ja4.slice(0, 10)).toBe('t12i990000')
    expect(got.ja4.endsWith('_000000000000')).toBe(true)
    expect(got.ja4r.endsWith('_')).toBe(true)
    expect(ja4({...many, cipherSuites: []}).ja4).toBe('t12i000000_000000000000_000000000000')
  })

  it('renders ALPN per the spec and the reference implementation, including the non-alphanumeric hex rule', () => {
    expect(ja4Alpn('h2')).toBe('h2')
    expect(ja4Alpn('http/1.1')).toBe('h1')
    expect(ja4Alpn('h')).toBe('hh')
    expect(ja4Alpn(undefined)).toBe('00')
    expect(ja4Alpn('')).toBe('00')
    const bytes = (...b: number[]) => String.fromCharCode(...b)
    // A non-ASCII first byte: '99', as FoxIO's reference implementation prints (it made the corpus).
    expect(ja4Alpn(bytes(0xab))).toBe('99')
    expect(ja4Alpn(bytes(0xba, 0xad))).toBe('99')
    // Other non-alphanumeric ends: the first and last hex digits (JA4.md, spec examples).
    expect(ja4Alpn(bytes(0x5f, 0x78))).toBe('58')
    expect(ja4Alpn(bytes(0x30, 0xab))).toBe('3b')
    expect(ja4Alpn(bytes(0x30, 0x31, 0xab, 0xcd))).toBe('3d')
    expect(ja4Alpn(bytes(0x30, 0xab, 0xcd, 0x31))).toBe('01')
  })
})

describe('GREASE (RFC 8701 §2)', () => {
  it('recognises exactly the sixteen reserved values', () => {
    const reserved = [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa]
    const found: number[] = []
    for (let v = 0; v <= 0xffff; v++) if (isGrease(v)) found.push(v)
    expect(found).toEqual(reserved)
  })
})
