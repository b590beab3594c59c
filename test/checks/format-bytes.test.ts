/**
 * formatBytes writes a byte count as toLocaleString('en-US') would ("1,234 bytes") without
 * calling Intl, which cost ~1 µs a call and is called several times per connection.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {formatBytes} from '../../src/checks/tls-common.js'

describe('formatBytes', () => {
  it('groups thousands as en-US does, at the edges', () => {
    for (const n of [0, 7, 999, 1000, 1001, 16_401, 999_999, 1_000_000, 1_234_567_890, -1, -1000, -1_234_567, Number.MAX_SAFE_INTEGER]) {
      expect(formatBytes(n)).toBe(`${n.toLocaleString('en-US')} bytes`)
    }
    expect(formatBytes(16_401)).toBe('16,401 bytes')
  })

  it('agrees with toLocaleString for any integer and any fraction (fast-check seed 20261122)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({min: -2e9, max: 2e9}), fc.double({min: -1e7, max: 1e7, noNaN: true})), (n) => {
        expect(formatBytes(n)).toBe(`${n.toLocaleString('en-US')} bytes`)
      }),
      {seed: 20261122, numRuns: 5000},
    )
  })
})
