/** Address text: the recommended forms of RFC 5952 §4 and §5, and dotted quads. */
import {describe, expect, it} from 'vitest'
import {formatIpv4, formatIpv6} from '../../src/packet/address.js'

/** 16 bytes of an address written with all eight groups in full (no compression). */
function bytesOf(fullGroups: string): Uint8Array {
  const bytes = new Uint8Array(16)
  fullGroups.split(':').forEach((group, i) => {
    const value = parseInt(group, 16)
    bytes[2 * i] = value >> 8
    bytes[2 * i + 1] = value & 0xff
  })
  return bytes
}

describe('formatIpv6 (RFC 5952)', () => {
  const vectors: Array<[string, string, string]> = [
    ['§4.1 leading zeros dropped', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['§4.2.1 longest run compressed', '2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['§4.2.2 a single 0 group is not compressed', '2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
    ['§4.2.3 the longest run wins', '2001:0000:0000:0001:0000:0000:0000:0001', '2001:0:0:1::1'],
    ['§4.2.3 the first of equal runs wins', '2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['§4.3 lowercase', '2001:0DB8:0000:0000:0000:0000:AAAA:BBBB', '2001:db8::aaaa:bbbb'],
    ['§5 IPv4-mapped keeps the dotted quad', '0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['unspecified', '0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['loopback', '0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['trailing run', 'fe80:0000:0000:0000:0000:0000:0000:0000', 'fe80::'],
    ['no zeros', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ]
  for (const [name, full, text] of vectors) {
    it(name, () => {
      // Twice: the first formats, the second comes from the cache.
      expect(formatIpv6(bytesOf(full), 0)).toBe(text)
      expect(formatIpv6(bytesOf(full), 0)).toBe(text)
    })
  }

  it('reads at an offset and does not confuse cached neighbours', () => {
    const data = new Uint8Array(40)
    data.set(bytesOf('2001:0db8:0000:0000:0000:0000:0000:0001'), 8)
    data.set(bytesOf('2001:0db8:0000:0000:0000:0000:0000:0002'), 24)
    for (let round = 0; round < 3; round++) {
      expect(formatIpv6(data, 8)).toBe('2001:db8::1')
      expect(formatIpv6(data, 24)).toBe('2001:db8::2')
    }
  })
})

describe('formatIpv4', () => {
  it('formats dotted quads, cached or not', () => {
    const data = Uint8Array.of(0, 192, 0, 2, 1, 10, 0, 0, 255)
    for (let round = 0; round < 2; round++) {
      expect(formatIpv4(data, 1)).toBe('192.0.2.1')
      expect(formatIpv4(data, 5)).toBe('10.0.0.255')
      expect(formatIpv4(data, 0)).toBe('0.192.0.2')
    }
  })
})
