/**
 * TlsRecordReader: framing of real TLS streams (fixtures, checked against tshark's record
 * decode), identical output wherever the input is split, and the malformed / not-TLS / need-
 * more-data states.
 */
import {describe, expect, it} from 'vitest'
import type {FrameRef} from '../../../src/stream/types.js'
import {MAX_RECORD_LENGTH, TlsRecordReader, type TlsRecord} from '../../../src/protocols/tls/record.js'
import {directionBytes, directionOf, streamVector} from './streams.js'
import {list, nums, tsharkRecordTypes} from './vectors.js'

interface Seen {
  contentType: number
  version: number
  hex: string
  frame: number
}

function reader(): {r: TlsRecordReader; seen: Seen[]; issues: string[]} {
  const seen: Seen[] = []
  const issues: string[] = []
  const r = new TlsRecordReader({
    record: (rec: TlsRecord) => seen.push({contentType: rec.contentType, version: rec.version, hex: Buffer.from(rec.fragment).toString('hex'), frame: rec.ref.frame}),
    malformed: (code) => issues.push(code),
  })
  return {r, seen, issues}
}

const ref = (frame: number): FrameRef => ({frame, ts: frame})


for (const file of ['fixtures/tls/openssl12-mtls/capture.pcap', 'fixtures/tls/hello-retry/capture.pcap', 'ja4/pcap/badcurveball.pcap', 'fixtures/tls/tls12-only-server/capture.pcap']) {
  describe(`records of ${file}`, () => {
    const s = streamVector(file)
    for (const direction of ['c2s', 's2c'] as const) {
      const bytes = directionBytes(s, direction)
      const whole = reader()
      whole.r.push(bytes, ref(1))

      it(`${direction}: same records and lengths as tshark`, () => {
        const rows = s.tshark.filter((t) => directionOf(s, t.srcPort) === direction)
        const types = rows.flatMap(tsharkRecordTypes)
        const lengths = rows.flatMap((t) => nums(t['tls.record.length']))
        expect(types.length).toBeGreaterThan(0)
        expect(whole.seen.map((x) => x.contentType)).toEqual(types)
        expect(whole.seen.map((x) => x.hex.length / 2)).toEqual(lengths)
        expect(whole.issues).toEqual([])
        expect(whole.r.pendingBytes).toBe(0)
      })

      // Record end offsets in the direction's byte stream.
      const ends: number[] = []
      let at = 0
      for (const x of whole.seen) ends.push((at += 5 + x.hex.length / 2))

      it(`${direction}: split at every byte boundary gives the same records, each ref'd to the chunk of its last byte`, () => {
        for (let i = 1; i < bytes.length; i++) {
          const split = reader()
          split.r.push(bytes.subarray(0, i), ref(1))
          split.r.push(bytes.subarray(i), ref(2))
          expect(split.seen.map((x) => [x.contentType, x.version, x.hex])).toEqual(whole.seen.map((x) => [x.contentType, x.version, x.hex]))
          expect(split.seen.map((x) => x.frame)).toEqual(ends.map((end) => (end <= i ? 1 : 2)))
        }
      })

      it(`${direction}: application data declined (wantsFragment) is passed over at every split: same records, same lengths, no bytes`, () => {
        for (let i = 1; i < bytes.length; i++) {
          const seen: Array<[number, number, number, string]> = []
          const r = new TlsRecordReader({
            record: (rec) => seen.push([rec.contentType, rec.version, rec.length, Buffer.from(rec.fragment).toString('hex')]),
            malformed: () => undefined,
            wantsFragment: (contentType) => contentType !== 23,
          })
          r.push(bytes.subarray(0, i), ref(1))
          expect(r.pendingBytes).toBe(Math.min(i, bytes.length) - whole.seen.filter((_, k) => ends[k]! <= i).reduce((sum, x) => sum + 5 + x.hex.length / 2, 0))
          r.push(bytes.subarray(i), ref(2))
          // A declined record that lay in one chunk is still handed over as a view (it costs nothing).
          expect(seen.map(([type, version, length, hex]) => [type, version, length, type === 23 ? undefined : hex])).toEqual(
            whole.seen.map((x) => [x.contentType, x.version, x.hex.length / 2, x.contentType === 23 ? undefined : x.hex]),
          )
          expect(seen.every(([type, , length, hex]) => type !== 23 || hex.length === 0 || hex.length === 2 * length)).toBe(true)
          expect(r.pendingBytes).toBe(0)
        }
      })

      it(`${direction}: byte-at-a-time input gives the same records`, () => {
        const single = reader()
        for (let i = 0; i < bytes.length; i++) single.r.push(bytes.subarray(i, i + 1), ref(i))
        expect(single.seen.map((x) => x.hex)).toEqual(whole.seen.map((x) => x.hex))
      })
    }
  })
}

describe('record reader states', () => {
  // Record headers below are RFC 8446 §5.1 TLSPlaintext/TLSCiphertext layouts written out.
  it('waits (need more data) on a partial record, and says how much it holds', () => {
    const {r, seen, issues} = reader()
    r.push(Uint8Array.of(0x17, 0x03, 0x03), ref(1))
    expect(r.pendingBytes).toBe(3)
    r.push(Uint8Array.of(0x00, 0x04, 0xaa), ref(2))
    expect(r.pendingBytes).toBe(6)
    expect(seen).toEqual([])
    r.push(Uint8Array.of(0xbb, 0xcc, 0xdd), ref(3))
    expect(seen).toEqual([{contentType: 23, version: 0x0303, hex: 'aabbccdd', frame: 3}])
    expect(r.pendingBytes).toBe(0)
    expect(issues).toEqual([])
    expect(r.stopped).toBe(false)
  })

  it('accepts a record of exactly 2^14+256 bytes and rejects one byte more (RFC 8446 §5.2)', () => {
    const ok = reader()
    ok.r.push(Uint8Array.of(0x17, 0x03, 0x03, MAX_RECORD_LENGTH >> 8, MAX_RECORD_LENGTH & 0xff), ref(1))
    expect(ok.issues).toEqual([])
    expect(ok.r.pendingBytes).toBe(5)
    const tooBig = MAX_RECORD_LENGTH + 1
    for (let i = 1; i <= 5; i++) {
      const bad = reader()
      const header = Uint8Array.of(0x17, 0x03, 0x03, tooBig >> 8, tooBig & 0xff)
      bad.r.push(header.subarray(0, i), ref(1))
      bad.r.push(header.subarray(i), ref(2))
      expect(bad.issues).toEqual(['tls.record-too-large'])
      expect(bad.r.stopped).toBe(true)
      bad.r.push(Uint8Array.of(0x17, 0x03, 0x03, 0, 1, 0), ref(3))
      expect(bad.seen).toEqual([])
    }
  })

  it('calls a stream whose first byte is no content type not TLS, with its first 16 bytes, wherever it is split', () => {
    // An HTTP/1.1 request line (RFC 9112 §3) where a ClientHello was expected.
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: console\r\n\r\n')
    for (let i = 1; i < http.length; i++) {
      const {r, seen, issues} = reader()
      r.push(http.subarray(0, i), ref(7))
      r.push(http.subarray(i), ref(8))
      expect(r.notTls?.ref.frame).toBe(7)
      expect(Buffer.from(r.notTls!.firstBytes).toString('latin1')).toBe('GET / HTTP/1.1\r\n')
      expect(r.stopped).toBe(true)
      expect(seen).toEqual([])
      expect(issues).toEqual([])
    }
  })

  it('calls an SSH banner (RFC 4253 §4.2) not TLS', () => {
    const {r} = reader()
    r.push(new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n'), ref(1))
    expect(Buffer.from(r.notTls!.firstBytes).toString('latin1')).toBe('SSH-2.0-OpenSSH_')
  })

  it('calls a valid content type with a non-0x03 version byte not TLS when it is the first record', () => {
    const {r} = reader()
    r.push(Uint8Array.of(0x16, 0x00, 0x02), ref(1))
    expect(r.notTls?.firstBytes).toEqual(Uint8Array.of(0x16, 0x00, 0x02))
  })

  it('calls a bad content type after good records malformed, not "not TLS", and stops', () => {
    const {r, seen, issues} = reader()
    r.push(Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28, 0x63, 0x03, 0x03, 0x00, 0x00), ref(1))
    expect(seen.length).toBe(1)
    expect(issues).toEqual(['tls.bad-content-type'])
    expect(r.notTls).toBeUndefined()
    expect(r.stopped).toBe(true)
  })

  it('stops on stop() (a gap) and ignores later bytes', () => {
    const {r, seen} = reader()
    r.push(Uint8Array.of(0x17, 0x03, 0x03, 0x00, 0x02, 0xaa), ref(1))
    r.stop()
    r.push(Uint8Array.of(0xbb, 0x17, 0x03, 0x03, 0x00, 0x00), ref(2))
    expect(seen).toEqual([])
    expect(r.pendingBytes).toBe(0)
  })
})

// Keep the tshark helper honest: a multi-record frame lists several content types.
it('vectors: tshark lists several records per frame where a frame carries several', () => {
  const s = streamVector('fixtures/tls/hello-retry/capture.pcap')
  expect(s.tshark.some((t) => list(t['tls.record.content_type']).length > 1)).toBe(true)
})
