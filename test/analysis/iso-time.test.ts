/**
 * isoTime writes a capture timestamp as ISO-8601 the way Date#toISOString does, clamped to the
 * years 0000-9999 (a corrupt pcapng timestamp must not throw or print a six-digit year), but
 * builds the time of day itself: it runs twice per connection.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {isoTime} from '../../src/time.js'

const MIN = Date.parse('0000-01-01T00:00:00.000Z')
const MAX = Date.parse('9999-12-31T23:59:59.999Z')
const reference = (seconds: number) => new Date(Math.min(Math.max(Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0, MIN), MAX)).toISOString()

describe('isoTime', () => {
  it('agrees with Date#toISOString on edges: epoch, day ends, rounding, before 1970, the clamps', () => {
    for (const s of [0, 1.2345, 86_399.9996, 1_768_471_200.0005, -0.5, -86_400.001, 253_402_300_799.999, 1e13, -1e13, Number.NaN, Number.POSITIVE_INFINITY, -62_167_219_200]) {
      expect(isoTime(s)).toBe(reference(s))
    }
    expect(isoTime(1_768_471_200.0005)).toBe('2026-01-15T10:00:00.001Z')
  })

  it('agrees with Date#toISOString on any time, in any order (fast-check seed 20261122)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({min: -1e11, max: 3e11, noNaN: true}), {minLength: 1, maxLength: 20}), (times) => {
        for (const s of times) expect(isoTime(s)).toBe(reference(s))
      }),
      {seed: 20261122, numRuns: 2000},
    )
  })
})
