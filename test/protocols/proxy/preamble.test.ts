/**
 * ProxyPreambleReader over the real byte streams of the corpus proxy captures and the
 * http-connect-407 fixture (test/protocols/proxy/streams.json, from tshark's follow): the facts must be
 * tshark's reading of the preamble, and the inner handler must get exactly the stream from where
 * tshark's TLS dissection starts — whole chunks, one byte at a time, and split at every offset.
 */
import {describe, expect, it} from 'vitest'
import {ProxyPreambleReader} from '../../../src/protocols/proxy/preamble.js'
import type {ProxyFacts} from '../../../src/protocols/proxy/types.js'
import {TlsConnectionReader} from '../../../src/protocols/tls/connection.js'
import type {Direction, FrameRef, StreamHandler} from '../../../src/stream/types.js'
import {STREAMS, bytesOf, expectedFromTshark, type StreamEntry} from './streams.js'

/** Collects what the reader forwards (copying: bytes are valid only during the call) and feeds a real TLS reader. */
class Forwarded implements StreamHandler {
  readonly tls = new TlsConnectionReader()
  private readonly parts: Record<Direction, Buffer[]> = {c2s: [], s2c: []}
  gaps = 0
  ends: Array<Direction | 'both'> = []

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    this.parts[direction].push(Buffer.from(bytes))
    this.tls.data(direction, bytes, ref)
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    this.gaps++
    this.tls.gap(direction, size, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    this.ends.push(direction)
    this.tls.end(direction, ref)
  }

  bytes(direction: Direction): Buffer {
    return Buffer.concat(this.parts[direction])
  }
}

type Event = [Direction, Uint8Array]

function events(entry: StreamEntry): Event[] {
  return entry.chunks.map(([direction, hex]) => [direction, Buffer.from(hex, 'hex')])
}

/** Feeds events in order; each chunk's bytes are overwritten after the call to catch kept views. */
function run(list: Event[]): {reader: ProxyPreambleReader; inner: Forwarded} {
  const inner = new Forwarded()
  const reader = new ProxyPreambleReader(inner)
  list.forEach(([direction, bytes], i) => {
    const scratch = Uint8Array.from(bytes)
    reader.data(direction, scratch, {frame: i + 1, ts: i})
    scratch.fill(0xee)
  })
  return {reader, inner}
}

/** The same events with the chunk holding `direction`'s byte `offset` split before it. */
function splitAt(list: Event[], direction: Direction, offset: number): Event[] {
  const out: Event[] = []
  let seen = 0
  for (const [d, bytes] of list) {
    if (d === direction && offset > seen && offset < seen + bytes.length) {
      out.push([d, bytes.subarray(0, offset - seen)], [d, bytes.subarray(offset - seen)])
    } else {
      out.push([d, bytes])
    }
    if (d === direction) seen += bytes.length
  }
  return out
}

function oneByteAtATime(list: Event[]): Event[] {
  return list.flatMap(([d, bytes]) => Array.from(bytes, (_, i) => [d, bytes.subarray(i, i + 1)] as Event))
}

/** Facts without frame numbers (the synthetic refs here are event indexes; the pipeline test checks real frames). */
function comparable(facts: ProxyFacts | undefined): unknown {
  if (!facts) return undefined
  const {request: _request, response, issues, ...rest} = facts
  return {...rest, response: response && {status: response.status, reason: response.reason}, issues: issues.map((i) => i.code)}
}

describe('ProxyPreambleReader on real proxy streams (tshark follow)', () => {
  it('covers every connection of the proxy captures', () => {
    expect(STREAMS.map((s) => `${s.capture}#${s.stream}`)).toEqual([
      'corpus/https-connect.pcap#0',
      'corpus/socks-https-example.pcap#0',
      'corpus/socks-https-example.pcap#2',
      'corpus/socks-https-example.pcap#4',
      'corpus/socks4-https.pcap#0',
      'fixtures/proxy/http-connect-407/capture.pcap#0',
      'fixtures/proxy/http-connect-407/capture.pcap#1',
    ])
  })

  describe.each(STREAMS.map((entry) => [`${entry.capture}#${entry.stream}`, entry] as const))('%s', (_name, entry) => {
    const want = expectedFromTshark(entry)
    const list = events(entry)
    const c2s = bytesOf(entry, 'c2s')
    const s2c = bytesOf(entry, 's2c')
    const reference = run(list)

    it('reads the preamble as tshark does', () => {
      const facts = reference.reader.facts()!
      expect(facts.type).toBe(want.type)
      expect(facts.target).toEqual(want.target)
      expect(facts.response?.status).toBe(want.response.status)
      expect(facts.response?.reason).toBe(want.response.reason)
      expect(facts.tunnelOpened).toBe(want.tunnelOpened)
      expect(facts.issues).toEqual([])
      if (want.type === 'socks5') expect(facts.command).toBe('CONNECT')
      if (want.offered || want.scheme) {
        expect(facts.authentication?.offered ?? []).toEqual(want.offered ?? [])
        expect(facts.authentication?.scheme).toBe(want.scheme)
      }
      if (want.type === 'http-connect') {
        expect(facts.http).toEqual({version: want.httpVersion, ...(want.via && {via: want.via}), ...(want.server && {server: want.server})})
      }
    })

    it('forwards exactly the tunnel: each direction from where tshark sees TLS start', () => {
      const {inner} = reference
      if (!want.tunnelOpened) {
        expect(inner.bytes('c2s').length).toBe(0)
        expect(inner.bytes('s2c').length).toBe(0)
        return
      }
      expect(inner.bytes('c2s').equals(c2s.subarray(want.tunnelFrom.c2s))).toBe(true)
      expect(inner.bytes('s2c').equals(s2c.subarray(want.tunnelFrom.s2c))).toBe(true)
      if (entry.tls.clientHello) expect(Array.from(inner.bytes('c2s').subarray(0, 2))).toEqual([0x16, 0x03])
      if (entry.tls.serverHello || want.tunnelFrom.s2c < s2c.length) expect(Array.from(inner.bytes('s2c').subarray(0, 2))).toEqual([0x16, 0x03])
      // The TLS reader behind it reads the ClientHello tshark reads.
      const hello = inner.tls.facts().clientHellos[0]
      if (entry.tls.clientHello) expect(hello?.sni).toBe(entry.tls.clientHello.sni ?? undefined)
      if (entry.tls.serverHello) expect(inner.tls.facts().serverHello).toBeDefined()
    })

    it('gives the same facts and tunnel bytes one byte at a time', () => {
      const {reader, inner} = run(oneByteAtATime(list))
      expect(comparable(reader.facts())).toEqual(comparable(reference.reader.facts()))
      expect(inner.bytes('c2s').equals(reference.inner.bytes('c2s'))).toBe(true)
      expect(inner.bytes('s2c').equals(reference.inner.bytes('s2c'))).toBe(true)
    })

    it('gives the same facts and tunnel bytes split at every offset of the preamble and past it', () => {
      for (const direction of ['c2s', 's2c'] as const) {
        const length = direction === 'c2s' ? c2s.length : s2c.length
        const last = Math.min(length - 1, want.tunnelFrom[direction] + 64)
        for (let offset = 1; offset <= last; offset++) {
          const {reader, inner} = run(splitAt(list, direction, offset))
          const where = `${direction} split at ${offset}`
          expect(comparable(reader.facts()), where).toEqual(comparable(reference.reader.facts()))
          expect(inner.bytes('c2s').equals(reference.inner.bytes('c2s')), where).toBe(true)
          expect(inner.bytes('s2c').equals(reference.inner.bytes('s2c')), where).toBe(true)
        }
      }
    })

    it('keeps no credentials', () => {
      const json = JSON.stringify(reference.reader.facts())
      // The fixture's Proxy-Authorization is "Basic dTpw" (u:p, RFC 7617).
      expect(json).not.toContain(Buffer.from('u:p').toString('base64'))
      expect(json).not.toContain('u:p')
      // socks4-https.pcap's SOCKS4 USERID (tshark socks.username) is an identity, not kept either.
      expect(json).not.toContain('fd7bcf7b5c9e1d')
    })
  })
})

describe('ProxyPreambleReader: clients that do not wait, streams cut short, limits', () => {
  const byName = (name: string) => STREAMS.find((s) => `${s.capture}#${s.stream}` === name)!

  it.each(STREAMS.filter((s) => expectedFromTshark(s).tunnelOpened).map((s) => [`${s.capture}#${s.stream}`, s] as const))(
    '%s: a client that sends its whole stream before any answer (request, then TLS) still gets the same tunnel',
    (_name, entry) => {
      // The real bytes regrouped: every client byte in one chunk, then every server byte, whole and byte by byte.
      const pipelined: Event[] = [['c2s', bytesOf(entry, 'c2s')], ['s2c', bytesOf(entry, 's2c')]]
      const reference = run(events(entry))
      for (const list of [pipelined, oneByteAtATime(pipelined)]) {
        const {reader, inner} = run(list)
        expect(comparable(reader.facts())).toEqual(comparable(reference.reader.facts()))
        expect(inner.bytes('c2s').equals(reference.inner.bytes('c2s'))).toBe(true)
        expect(inner.bytes('s2c').equals(reference.inner.bytes('s2c'))).toBe(true)
      }
    },
  )

  it('passes TLS through untouched and installs the inner handler directly', () => {
    // The tunnelled part of the fixture's 200 connection is a plain TLS 1.3 stream.
    const entry = byName('fixtures/proxy/http-connect-407/capture.pcap#1')
    const want = expectedFromTshark(entry)
    const c2s = bytesOf(entry, 'c2s').subarray(want.tunnelFrom.c2s)
    const s2c = bytesOf(entry, 's2c').subarray(want.tunnelFrom.s2c)
    const {reader, inner} = run([['c2s', c2s], ['s2c', s2c]])
    expect(reader.facts()).toBeUndefined()
    expect(reader.issues).toEqual([])
    expect(inner.bytes('c2s').equals(c2s)).toBe(true)
    expect(inner.bytes('s2c').equals(s2c)).toBe(true)
    // After the decision the wrapper's methods are the inner handler's own (bound), nothing in between.
    expect(reader.data.name).toBe('bound data')
    expect(reader.end?.name).toBe('bound end')
    expect(inner.tls.facts().clientHellos[0]?.sni).toBe('console.test')
  })

  it('passes through when the server speaks first, or the capture began mid-connection', () => {
    const entry = byName('corpus/socks-https-example.pcap#4')
    const c2s = bytesOf(entry, 'c2s')
    const s2c = bytesOf(entry, 's2c')
    const serverFirst = run([['s2c', s2c], ['c2s', c2s]])
    expect(serverFirst.reader.facts()).toBeUndefined()
    expect(serverFirst.inner.bytes('c2s').equals(c2s)).toBe(true)

    const inner = new Forwarded()
    const midstream = new ProxyPreambleReader(inner, {fromOpening: () => false})
    midstream.data('c2s', c2s, {frame: 1, ts: 0})
    expect(midstream.facts()).toBeUndefined()
    expect(inner.bytes('c2s').equals(c2s)).toBe(true)
  })

  it('passes through a "C" that does not go on to "CONNECT ", replaying what it held', () => {
    // The https-connect.pcap CONNECT head with its 8th byte changed ("CONNECTX..."): the first
    // seven bytes match and are held; the mismatch must replay them, byte by byte as they came.
    const head = bytesOf(byName('corpus/https-connect.pcap#0'), 'c2s').subarray(0, 84)
    const altered = Buffer.from(head)
    altered[7] = 0x58 // 'X' instead of the space after CONNECT
    const list: Event[] = Array.from(altered, (_, i) => ['c2s', altered.subarray(i, i + 1)] as Event)
    const {reader, inner} = run(list)
    expect(reader.facts()).toBeUndefined()
    expect(inner.bytes('c2s').equals(altered)).toBe(true)
  })

  it('reports a stream that ends inside the request, a gap inside the preamble and a head over the limit', () => {
    const entry = byName('corpus/https-connect.pcap#0')
    const c2s = bytesOf(entry, 'c2s')

    const ended = new ProxyPreambleReader(new Forwarded())
    ended.data('c2s', c2s.subarray(0, 40), {frame: 4, ts: 0})
    ended.end!('c2s', {frame: 5, ts: 1})
    expect(ended.facts()?.type).toBe('http-connect')
    expect(ended.facts()?.target).toBeUndefined()
    expect(ended.issues.map((i) => [i.code, i.frame])).toEqual([['proxy.incomplete', 4]])

    const gapped = new ProxyPreambleReader(new Forwarded())
    gapped.data('c2s', c2s.subarray(0, 40), {frame: 4, ts: 0})
    gapped.gap!('c2s', 44, {frame: 6, ts: 1})
    expect(gapped.issues.map((i) => [i.code, i.frame])).toEqual([['proxy.gap', 6]])
    expect(gapped.facts()?.tunnelOpened).toBe(false)

    const inner = new Forwarded()
    const limited = new ProxyPreambleReader(inner, {maxHeadBytes: 64})
    limited.data('c2s', c2s.subarray(0, 84), {frame: 4, ts: 0})
    expect(limited.issues.map((i) => i.code)).toEqual(['proxy.head-too-large'])
    limited.data('s2c', bytesOf(entry, 's2c'), {frame: 6, ts: 1})
    expect(inner.bytes('s2c').length).toBe(0)
  })

  it('forwards a gap in the client tunnel bytes once the tunnel opens (socks4-https.pcap lost the ClientHello)', () => {
    // tshark: frame 7 acknowledges client bytes up to seq 240 that were never captured (201 bytes).
    const entry = byName('corpus/socks4-https.pcap#0')
    const inner = new Forwarded()
    const reader = new ProxyPreambleReader(inner)
    reader.data('c2s', bytesOf(entry, 'c2s'), {frame: 4, ts: 0})
    reader.gap!('c2s', 201, {frame: 10, ts: 1})
    expect(inner.gaps).toBe(0)
    reader.data('s2c', bytesOf(entry, 's2c'), {frame: 6, ts: 2})
    expect(inner.gaps).toBe(1)
    expect(reader.facts()?.tunnelOpened).toBe(true)
    expect(inner.tls.issues.map((i) => i.code)).toContain('tls.gap')
  })
})
