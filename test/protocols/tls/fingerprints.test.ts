/**
 * clientHelloFingerprints remembers JA3/JA4 by the hello's fingerprint inputs: it must give, for
 * any sequence of hellos, exactly what ja3() and ja4() compute afresh, including hellos that
 * differ from a remembered one in a single value, in order only, or in ALPN alone.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {ClientHello} from '../../../src/protocols/tls/client-hello.js'
import {clientHelloFingerprints} from '../../../src/protocols/tls/fingerprints.js'
import {ja3} from '../../../src/protocols/tls/ja3.js'
import {ja4} from '../../../src/protocols/tls/ja4.js'

// Few distinct values, so that generated hellos repeat and nearly repeat one another.
const value = fc.constantFrom(0x0a0a, 0x1301, 0x1302, 0x0000, 0x0010, 0x002b, 0x0403, 0x0804)
const list = fc.array(value, {maxLength: 4})
const hello: fc.Arbitrary<ClientHello> = fc.record({
  legacyVersion: fc.constantFrom(0x0301, 0x0303),
  random: fc.constant('00'.repeat(32)),
  sessionIdLength: fc.constant(0),
  cipherSuites: list,
  compressionMethods: fc.constant([0]),
  extensions: list,
  sni: fc.option(fc.constant('console.test'), {nil: undefined}),
  alpn: fc.option(fc.array(fc.constantFrom('h2', 'http/1.1', ''), {maxLength: 2}), {nil: undefined}),
  supportedVersions: fc.option(list, {nil: undefined}),
  supportedGroups: fc.option(list, {nil: undefined}),
  signatureAlgorithms: fc.option(list, {nil: undefined}),
  ecPointFormats: fc.option(fc.array(fc.constantFrom(0, 1), {maxLength: 2}), {nil: undefined}),
  offersTls13: fc.boolean(),
  grease: fc.boolean(),
}) as fc.Arbitrary<ClientHello>

describe('clientHelloFingerprints', () => {
  it('equals ja3() and ja4() for every hello of a sequence (fast-check seed 20261122)', () => {
    fc.assert(
      fc.property(fc.array(hello, {minLength: 1, maxLength: 30}), (hellos) => {
        for (const h of hellos) expect(clientHelloFingerprints(h)).toEqual({...ja3(h), ...ja4(h, 't')})
      }),
      {seed: 20261122, numRuns: 300},
    )
  })

  it('does not take a hello for a remembered one that differs in order or in ALPN only', () => {
    const base = {legacyVersion: 0x0303, random: '', sessionIdLength: 0, cipherSuites: [0x1301, 0x1302], compressionMethods: [0], extensions: [0x0000, 0x0010], alpn: ['h2'], offersTls13: true, grease: false} as ClientHello
    const swapped = {...base, cipherSuites: [0x1302, 0x1301]}
    const otherAlpn = {...base, alpn: ['http/1.1']}
    const first = clientHelloFingerprints(base)
    expect(clientHelloFingerprints(swapped).ja3).not.toBe(first.ja3)
    expect(clientHelloFingerprints(swapped).ja4).toBe(first.ja4) // JA4 sorts the ciphers
    expect(clientHelloFingerprints(otherAlpn).ja4).not.toBe(first.ja4)
    expect(clientHelloFingerprints(base)).toEqual(first)
  })
})
