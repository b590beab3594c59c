/**
 * Regression for what test/property/proxy.test.ts found: ProxyPreambleReader checked maxHeldBytes
 * per chunk, before reading the preamble messages at its start. A proxy's method selection and
 * reply arriving in the same chunk as the first tunnel bytes (a large segment) made the reader
 * give up with proxy.held-too-much, while the same bytes in smaller segments opened the tunnel:
 * the verdict depended on where the capture's segments split. The limit now counts what is still
 * held after reading. On the real SOCKS5 connection of corpus/socks-https-example.pcap (stream 4,
 * test/protocols/proxy/streams.json), regrouped as one chunk per direction.
 */
import {describe, expect, it} from 'vitest'
import {ProxyPreambleReader} from '../../src/protocols/proxy/preamble.js'
import type {Direction, FrameRef, StreamHandler} from '../../src/stream/types.js'
import {STREAMS, bytesOf, expectedFromTshark} from '../protocols/proxy/streams.js'

const entry = STREAMS.find((s) => s.capture === 'corpus/socks-https-example.pcap' && s.stream === 4)!
const want = expectedFromTshark(entry)
const c2s = bytesOf(entry, 'c2s')
const s2c = bytesOf(entry, 's2c')

type Event = [Direction, Uint8Array, FrameRef]

function run(events: Event[], maxHeldBytes: number) {
  const forwarded: Record<Direction, Buffer[]> = {c2s: [], s2c: []}
  const inner: StreamHandler = {data: (d, b) => forwarded[d].push(Buffer.from(b))}
  const reader = new ProxyPreambleReader(inner, {maxHeldBytes})
  for (const [direction, bytes, ref] of events) reader.data(direction, bytes, ref)
  return {reader, c2s: Buffer.concat(forwarded.c2s), s2c: Buffer.concat(forwarded.s2c)}
}

/** All client bytes as frame 1, all server bytes as frame 2; `direction`'s chunk cut at `at` (0: whole). */
function pipelined(direction: Direction, at: number): Event[] {
  const events: Event[] = []
  for (const [d, bytes, frame] of [['c2s', c2s, 1], ['s2c', s2c, 2]] as const) {
    const cuts = d === direction && at > 0 ? [bytes.subarray(0, at), bytes.subarray(at)] : [bytes]
    for (const piece of cuts) events.push([d, piece, {frame, ts: frame}])
  }
  return events
}

describe('ProxyPreambleReader: maxHeldBytes does not depend on where chunks split', () => {
  it('is the SOCKS5 connection tshark reads', () => {
    expect(want).toMatchObject({type: 'socks5', tunnelOpened: true, tunnelFrom: {c2s: 14, s2c: 12}})
    expect(s2c.length).toBeGreaterThan(1024)
  })

  it('the proxy answers and TLS follows in one 8 KB chunk, limit 1 KiB: the tunnel opens, whole or split anywhere in the answer', () => {
    for (let at = 0; at <= 40; at++) {
      const {reader, c2s: tunnelC2s, s2c: tunnelS2c} = run(pipelined('s2c', at), 1024)
      const facts = reader.facts()!
      expect(reader.issues, `s2c cut at ${at}`).toEqual([])
      expect(facts.tunnelOpened).toBe(true)
      expect(facts.target).toEqual(want.target)
      expect(facts.response).toMatchObject({status: 0, reason: 'succeeded'})
      expect(tunnelC2s.equals(c2s.subarray(want.tunnelFrom.c2s))).toBe(true)
      expect(tunnelS2c.equals(s2c.subarray(want.tunnelFrom.s2c))).toBe(true)
    }
  })

  it('a client that sends 642 bytes past its 4-byte greeting before any answer, limit 100: held-too-much, whole or split anywhere', () => {
    for (let at = 0; at < c2s.length; at++) {
      const {reader} = run(pipelined('c2s', at).filter(([d]) => d === 'c2s'), 100)
      expect(reader.issues.map((i) => [i.code, i.frame, i.message]), `c2s cut at ${at}`).toEqual([
        ['proxy.held-too-much', 1, 'from the client: over 100 bytes before the SOCKS5 preamble completed; the tunnel cannot be followed'],
      ])
      expect(reader.facts()!.authentication?.offered).toEqual(want.offered)
    }
  })
})
