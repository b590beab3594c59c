/**
 * clock.skew's pure parts: the HTTP-date forms (RFC 9110 §5.6.7, its own example date in the
 * three forms a recipient must accept), the skew estimate from ClockFacts, and how spans read.
 */
import {describe, expect, it} from 'vitest'
import {clockSkewOf, parseHttpDate} from '../../src/checks/probe/clock-skew.js'
import {formatSpan} from '../../src/model/format.js'

const EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37)
const NOW = Date.UTC(2026, 11, 7)

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  it('reads IMF-fixdate, RFC 850 and asctime as the same instant, in GMT', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(EXAMPLE)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(EXAMPLE)
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(EXAMPLE)
  })
  it('a two-digit year more than 50 years ahead is the century before', () => {
    expect(new Date(parseHttpDate('Monday, 07-Dec-26 00:00:00 GMT', NOW)).getUTCFullYear()).toBe(2026)
    expect(new Date(parseHttpDate('Monday, 07-Dec-99 00:00:00 GMT', NOW)).getUTCFullYear()).toBe(1999)
  })
  it('anything else is not a date', () => {
    for (const bad of ['', 'yesterday', 'Sun, 06 Nov 1994 08:49:37 PST', 'Sun, 06 Foo 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT']) expect(parseHttpDate(bad, NOW)).toBeNaN()
  })
})

describe('clockSkewOf', () => {
  const at = (ms: number) => new Date(ms).toISOString()
  it('takes the middle of the Date second and of the round trip', () => {
    // Request at T, answer at T+200 ms, Date says T+7 min (truncated to the second).
    const T = Date.UTC(2026, 11, 7, 5, 0, 0)
    const skew = clockSkewOf({date: new Date(T + 420_000).toUTCString(), requestSentAt: at(T), responseAt: at(T + 200), status: 101})
    expect(skew).toEqual({skewMs: 420_000 + 500 - 100, uncertaintyMs: 600, consoleTime: at(T + 420_000)})
  })
  it('no Date, or a bad one: the reason', () => {
    expect(clockSkewOf({requestSentAt: at(NOW), responseAt: at(NOW), status: 101})).toEqual({problem: expect.stringContaining('has no Date header')})
    expect(clockSkewOf({date: 'soon', requestSentAt: at(NOW), responseAt: at(NOW), status: 403})).toEqual({problem: expect.stringContaining('is not an HTTP date')})
  })
})

describe('formatSpan', () => {
  it('two largest units, rounded to the second', () => {
    expect(formatSpan(450)).toBe('450 ms')
    expect(formatSpan(45_000)).toBe('45 s')
    expect(formatSpan(-423_400)).toBe('7 min 3 s')
    expect(formatSpan(2 * 3_600_000 + 13 * 60_000 + 20_000)).toBe('2 h 13 min')
    expect(formatSpan(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 days 4 h')
    expect(formatSpan(86_400_000 + 30_000)).toBe('1 day')
  })
})
