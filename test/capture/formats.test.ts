/**
 * Format variants: nanosecond pcap (real tcpdump output), pcapng with if_tsresol 9 (real editcap
 * output), big-endian pcap and pcapng, several sections in one file, Simple and obsolete Packet
 * Blocks, binary timestamp resolution with if_tsoffset, Decryption Secrets Blocks.
 * No tool on this host writes big-endian files, SPBs, PBs or 2^-n resolutions, so those are
 * derived from real little-endian captures by derive.ts, and each derived file is also read by
 * tshark to confirm Wireshark sees the same frames (a missing tshark fails, naming its install).
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import type {RawFrame} from '../../src/capture/types.js'
import {CORPUS_PCAPS, FIXTURES, JA4_ABSENT, ja4Corpus} from '../helpers/paths.js'
import {describeWithJa4, itWithJa4, skippedBecause} from '../helpers/skip.js'
import {epoch, parseBytes, tsharkFields} from './collect.js'
import {type Block, decodeOptions, encodeOptions, pcapngBlocks, swapPcap, swapPcapng, writePcapng} from './derive.js'

const NANO_PCAP = join(FIXTURES, 'capture', 'nanosecond', 'capture.pcap')
const NANO_PCAPNG = join(FIXTURES, 'capture', 'nanosecond', 'capture.pcapng')
const DSB_PCAPNG = join(FIXTURES, 'capture', 'dsb', 'capture.pcapng')
const DSB_KEYLOG = join(FIXTURES, 'capture', 'dsb', 'keylog.txt')

const scratch = mkdtempSync(join(tmpdir(), 'capture-formats-'))
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

type Row = [time: string, len: number, capLen: number]
const rowsOf = (frames: RawFrame[]): Row[] => frames.map((f) => [epoch(f), f.origLen, f.data.length])

/** Writes a derived file and returns what tshark reads in it. */
function tsharkRowsOfDerived(name: string, bytes: Uint8Array): Row[] {
  const path = join(scratch, name)
  writeFileSync(path, bytes)
  return tsharkFields(path, ['frame.time_epoch', 'frame.len', 'frame.cap_len']).map(([t, len, cap]) => [t!, Number(len), Number(cap)])
}

/** Frames compared field by field except the ones a derivation changes. */
const withoutIndex = (frames: RawFrame[]) => frames.map(({index: _index, ...rest}) => rest)

describe('nanosecond pcap (tcpdump --time-stamp-precision=nano -s 80)', () => {
  /** `tshark -r capture.pcap -T fields -e frame.time_epoch -e frame.len -e frame.cap_len` */
  const TSHARK_ROWS: Row[] = [
    ['1795307790.818342669', 74, 74],
    ['1795307790.818355357', 74, 74],
    ['1795307790.818373601', 66, 66],
    ['1795307790.818494090', 83, 80],
    ['1795307790.818499475', 66, 66],
    ['1795307790.818509465', 83, 80],
    ['1795307790.818510625', 66, 66],
    ['1795307790.818519125', 66, 66],
    ['1795307790.818644293', 66, 66],
    ['1795307790.818653288', 66, 66],
  ]

  it('keeps all nine fractional digits and both lengths', () => {
    const {frames, summary} = parseBytes(readFileSync(NANO_PCAP))
    expect(rowsOf(frames)).toEqual(TSHARK_ROWS)
    expect(summary).toMatchObject({format: 'pcap-ns', byteOrder: 'le', snaplen: 80, linkTypes: [1], frames: 10})
  })

  it('the editcap pcapng copy (if_tsresol 9) gives the same frames', () => {
    const pcap = parseBytes(readFileSync(NANO_PCAPNG))
    expect(pcap.frames).toEqual(parseBytes(readFileSync(NANO_PCAP)).frames)
    expect(pcap.summary).toMatchObject({format: 'pcapng', snaplen: 80, linkTypes: [1]})
  })
})

describe('classic pcap with a microsecond fraction of a second or more', () => {
  itWithJa4('carries whole seconds out of the fraction', () => {
    // tls12.pcap with its one record's µs field set to 1500000. tshark prints this as
    // "1703606032.1500000000" (1.5e9 ns unnormalized): the same instant as 1703606033.5.
    const bytes = new Uint8Array(readFileSync(join(CORPUS_PCAPS, 'tls12.pcap')))
    new DataView(bytes.buffer).setUint32(24 + 4, 1_500_000, true)
    expect(rowsOf(parseBytes(bytes).frames)).toEqual([['1703606033.500000000', 571, 571]])
  })
})

describe('big-endian pcap (derived by byte-swapping the headers of real captures)', () => {
  if (!ja4Corpus()) skippedBecause('ssh2-malformed.pcap', JA4_ABSENT)
  it.each([
    ...(ja4Corpus() ? [['ssh2-malformed.pcap', join(CORPUS_PCAPS, 'ssh2-malformed.pcap'), 'pcap'] as const] : []),
    ['nanosecond capture.pcap', NANO_PCAP, 'pcap-ns'] as const,
  ])('%s', (name, path, format) => {
    const le = readFileSync(path)
    const be = swapPcap(le)
    const original = parseBytes(le)
    const swapped = parseBytes(be)
    expect(swapped.summary).toEqual({...original.summary, byteOrder: 'be'})
    expect(swapped.summary.format).toBe(format)
    expect(swapped.frames).toEqual(original.frames)
    const tshark = tsharkRowsOfDerived(`${name}.be.pcap`, be)
    expect(tshark).toEqual(rowsOf(original.frames))
  })
})

describe('big-endian pcapng (derived by byte-swapping every block of real captures)', () => {
  if (!ja4Corpus()) skippedBecause('http1-with-cookies.pcapng (SHB/IDB options, ISB)', JA4_ABSENT)
  it.each([
    ...(ja4Corpus() ? [['http1-with-cookies.pcapng (SHB/IDB options, ISB)', join(CORPUS_PCAPS, 'http1-with-cookies.pcapng')] as const] : []),
    ['dsb capture.pcapng (DSB)', DSB_PCAPNG] as const,
  ])('%s', (name, path) => {
    const le = readFileSync(path)
    const be = swapPcapng(le)
    const original = parseBytes(le)
    const swapped = parseBytes(be)
    expect(swapped.summary).toEqual({...original.summary, byteOrder: 'be'})
    expect(swapped.frames).toEqual(original.frames)
    expect(swapped.secrets).toEqual(original.secrets)
    const tshark = tsharkRowsOfDerived(`${name.split(' ')[0]}.be.pcapng`, be)
    expect(tshark).toEqual(rowsOf(original.frames))
  })
})

describeWithJa4('several sections in one pcapng file', () => {
  // Section 1: LINKTYPE_NULL, little-endian; section 2: Ethernet, big-endian, with a DSB;
  // section 3: Ethernet, little-endian. Each section's EPBs use interface 0, so a reader that did
  // not forget the previous section's interfaces would give section 2 the wrong link type.
  const parts = [
    readFileSync(join(CORPUS_PCAPS, 'http1-with-cookies.pcapng')),
    swapPcapng(readFileSync(DSB_PCAPNG)),
    readFileSync(join(CORPUS_PCAPS, 'dhcp.pcapng')),
  ]
  const joined = Buffer.concat(parts)

  it('reads every section, numbering frames across them', () => {
    const each = parts.map((part) => parseBytes(part))
    const {frames, secrets, summary} = parseBytes(joined)
    const expected = each.flatMap((part) => part.frames).map((frame, i) => ({...frame, index: i + 1}))
    expect(frames).toEqual(expected)
    expect(frames.map((f) => f.linkType)).toEqual([...Array(12).fill(0), ...Array(16 + 4).fill(1)])
    expect(secrets).toEqual(each[1]!.secrets.map((s) => ({...s, offset: s.offset + parts[0]!.length})))
    expect(summary).toMatchObject({format: 'pcapng', byteOrder: 'le', frames: 32, linkTypes: [0, 1], bytes: joined.length})
    const tshark = tsharkRowsOfDerived('sections.pcapng', joined)
    expect(tshark).toEqual(rowsOf(frames))
  })
})

/** Replaces every EPB of a little-endian pcapng file with `convert(body)`. */
function replaceEpbs(file: Uint8Array, convert: (epb: DataView, body: Uint8Array) => Block): Uint8Array {
  return writePcapng(
    pcapngBlocks(file).map((block) =>
      block.type === 6 ? convert(new DataView(block.body.buffer, block.body.byteOffset, block.body.byteLength), block.body) : block,
    ),
  )
}

function padded(length: number): number {
  return (length + 3) & ~3
}

describe('Simple Packet Blocks (derived from the editcap pcapng: EPB → SPB)', () => {
  /**
   * SPB body (§4.4): original length, then the packet data padded to 32 bits; no timestamp. A
   * writer stores at most `snaplen` bytes of data.
   */
  const toSpb =
    (snaplen: number) =>
    (epb: DataView, body: Uint8Array): Block => {
      const caplen = Math.min(epb.getUint32(12, true), snaplen)
      const spb = new Uint8Array(4 + padded(caplen))
      new DataView(spb.buffer).setUint32(0, epb.getUint32(16, true), true)
      spb.set(body.subarray(20, 20 + caplen), 4)
      return {type: 3, body: spb}
    }
  const derived = replaceEpbs(readFileSync(NANO_PCAPNG), toSpb(80))

  it('gives interface 0 frames with no timestamp; captured length = min(origLen, snaplen, room)', () => {
    const original = parseBytes(readFileSync(NANO_PCAPNG)).frames
    const {frames} = parseBytes(derived)
    // Frames of 66 bytes sit in 68 bytes of room: the original length bounds them, not the padding.
    expect(frames).toEqual(original.map((frame) => ({...frame, tsSec: 0, tsNsec: 0})))
    const tshark = tsharkRowsOfDerived('spb.pcapng', derived)
    expect(tshark.map(([, len, cap]) => [len, cap])).toEqual(rowsOf(original).map(([, len, cap]) => [len, cap]))
  })

  it('bounds the captured length by the interface snaplen', () => {
    // The same frames written with the IDB's snaplen lowered from 80 to 70: SPBs of 70 bytes or
    // less of data. A 66-byte frame sits in 68 bytes of room and a 70-byte cut in 72.
    const cut = replaceEpbs(readFileSync(NANO_PCAPNG), toSpb(70))
    const blocks = pcapngBlocks(cut).map((block) => {
      if (block.type !== 1) return block
      const body = new Uint8Array(block.body)
      new DataView(body.buffer).setUint32(4, 70, true)
      return {type: 1, body}
    })
    const lowered = writePcapng(blocks)
    const tshark = tsharkRowsOfDerived('spb-snaplen.pcapng', lowered)
    const original = parseBytes(readFileSync(NANO_PCAPNG)).frames
    const {frames} = parseBytes(lowered)
    expect(frames.map((f) => [f.origLen, f.data.length])).toEqual(original.map((f) => [f.origLen, Math.min(f.data.length, 70)]))
    expect(frames.map((f) => f.data)).toEqual(original.map((f) => f.data.subarray(0, 70)))
    expect(tshark.map(([, len, cap]) => [len, cap])).toEqual(frames.map((f) => [f.origLen, f.data.length]))
  })
})

describeWithJa4('obsolete Packet Blocks (derived: EPB → PB, 16-bit interface id + drops count)', () => {
  it('gives the same frames', () => {
    const toPb = (epb: DataView, body: Uint8Array): Block => {
      const pb = new Uint8Array(body)
      const view = new DataView(pb.buffer)
      view.setUint16(0, epb.getUint32(0, true), true)
      view.setUint16(2, 0, true)
      return {type: 2, body: pb}
    }
    const derived = replaceEpbs(readFileSync(join(CORPUS_PCAPS, 'dhcp.pcapng')), toPb)
    const original = parseBytes(readFileSync(join(CORPUS_PCAPS, 'dhcp.pcapng')))
    expect(parseBytes(derived).frames).toEqual(original.frames)
    const tshark = tsharkRowsOfDerived('pb.pcapng', derived)
    expect(tshark).toEqual(rowsOf(original.frames))
  })
})

describe('binary if_tsresol and if_tsoffset (derived from the editcap pcapng)', () => {
  it('converts 2^-20 s units exactly and adds the offset', () => {
    const OFFSET = 86_400n // if_tsoffset: one day, in seconds
    const UNITS = 1n << 20n // if_tsresol 0x94: 2^-20 s
    const source = readFileSync(NANO_PCAPNG)
    const original = parseBytes(source).frames
    const blocks = pcapngBlocks(source).map((block): Block => {
      if (block.type === 1) {
        const offset = new Uint8Array(8)
        new DataView(offset.buffer).setBigInt64(0, OFFSET, true)
        const options = decodeOptions(block.body, 8).filter(([code]) => code !== 9)
        options.push([9, Uint8Array.of(0x94)], [14, offset])
        const body = new Uint8Array(8 + encodeOptions(options).length)
        body.set(block.body.subarray(0, 8))
        body.set(encodeOptions(options), 8)
        return {type: 1, body}
      }
      if (block.type !== 6) return block
      // Re-encode the nanosecond timestamp (seconds - offset) in 2^-20 s units, truncating.
      const body = new Uint8Array(block.body)
      const view = new DataView(body.buffer)
      const ns = ((BigInt(view.getUint32(4, true)) << 32n) | BigInt(view.getUint32(8, true)))
      const ticks = ((ns - OFFSET * 1_000_000_000n) * UNITS) / 1_000_000_000n
      view.setUint32(4, Number(ticks >> 32n), true)
      view.setUint32(8, Number(ticks & 0xffffffffn), true)
      return {type: 6, body}
    })
    const derived = writePcapng(blocks)
    const tshark = tsharkRowsOfDerived('tsresol.pcapng', derived)
    const {frames} = parseBytes(derived)
    // Each time is the original one truncated to a multiple of 2^-20 s, then back to whole ns.
    frames.forEach((frame, i) => {
      const nsOriginal = BigInt(original[i]!.tsSec) * 1_000_000_000n + BigInt(original[i]!.tsNsec)
      const nsDerived = BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec)
      expect(nsDerived <= nsOriginal && nsOriginal - nsDerived <= 954n).toBe(true) // 2^-20 s = 953.67 ns
    })
    expect(withoutIndex(frames).map(({tsSec: _s, tsNsec: _n, ...rest}) => rest)).toEqual(
      withoutIndex(original).map(({tsSec: _s, tsNsec: _n, ...rest}) => rest),
    )
    /** `tshark -r derived -T fields -e frame.time_epoch` of this exact derivation (first two frames). */
    expect(rowsOf(frames).slice(0, 2).map(([t]) => t)).toEqual(['1795307790.818342208', '1795307790.818354606'])
    expect(tshark).toEqual(rowsOf(frames))
  })
})

describe('Decryption Secrets Block (editcap --inject-secrets tls,keylog.txt)', () => {
  it('hands the key log bytes to sink.secrets', () => {
    const {secrets, frames} = parseBytes(readFileSync(DSB_PCAPNG))
    expect(frames.length).toBe(16)
    expect(secrets).toHaveLength(1)
    expect(secrets[0]!.secretsType).toBe(0x544c534b) // "TLSK"
    expect(Buffer.from(secrets[0]!.data).equals(readFileSync(DSB_KEYLOG))).toBe(true)
    // The block follows the 108-byte SHB written by editcap.
    expect(secrets[0]!.offset).toBe(108)
  })

  itWithJa4('reads the DSBs of the corpus captures that carry one (key logs: text lines of secrets)', () => {
    for (const [file, length] of [
      ['chrome-cloudflare-quic-with-secrets.pcapng', 1556],
      ['http2-with-cookies.pcapng', 27880],
    ] as const) {
      const {secrets} = parseBytes(readFileSync(join(CORPUS_PCAPS, file)))
      expect(secrets.map((s) => [s.secretsType, s.data.length])).toEqual([[0x544c534b, length]])
      expect(Buffer.from(secrets[0]!.data).toString('latin1')).toMatch(/^(# .*\n)?[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+\n/)
    }
  })
})
