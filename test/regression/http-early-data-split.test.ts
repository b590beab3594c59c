/**
 * Regression for what test/property/websocket.test.ts found: a client that sends WebSocket frames
 * before the 101 (RFC 6455 §4.1 says it must wait) past maxEarlyBytes got only
 * http.early-data-too-large when its bytes came in one chunk, but http.early-data and then
 * http.early-data-too-large when the chunk was split after the request: the issues depended on
 * where the capture's segments split. Now too-large replaces the warning either way. On the real
 * client stream of fixtures/ws/cleartext (test/protocols/websocket/streams.json: 70 KB of frames after the
 * request), all in one chunk before the server's, default limits.
 */
import {describe, expect, it} from 'vitest'
import {DEFAULT_MAX_EARLY_BYTES, HttpUpgradeReader} from '../../src/protocols/http/upgrade.js'
import {capture, chunks} from '../protocols/websocket/streams.js'

const list = chunks(capture('cleartext'))
const c2s = Buffer.concat(list.filter((c) => c.direction === 'c2s').map((c) => c.bytes))
const headEnd = c2s.indexOf('\r\n\r\n') + 4
const request = list.find((c) => c.direction === 'c2s')!

describe('too much early client data gives the same issues wherever the chunk splits', () => {
  it('is a client stream with more than maxEarlyBytes after its request', () => {
    expect(headEnd).toBeGreaterThan(4)
    expect(c2s.length - headEnd).toBeGreaterThan(DEFAULT_MAX_EARLY_BYTES)
  })

  it.each([0, 1, 2, 100, 65536])('whole, and cut %i bytes after the request', (after) => {
    for (const cuts of [[], [headEnd + after]]) {
      const r = new HttpUpgradeReader({onUpgrade: () => ({data: () => expect.fail('nothing is handed on')})})
      let from = 0
      for (const to of [...cuts, c2s.length]) {
        r.data('c2s', c2s.subarray(from, to), request)
        from = to
      }
      expect(r.facts.request?.method).toBe('GET')
      expect(r.facts.issues, `cut at ${cuts.join(',') || 'none'}`).toEqual([
        {code: 'http.early-data-too-large', severity: 'error', message: `client sent over ${DEFAULT_MAX_EARLY_BYTES} bytes before any response; stopped reading it`, frame: request.frame},
      ])
    }
  })
})
