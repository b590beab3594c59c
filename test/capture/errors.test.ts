/**
 * File-level errors and the truncated tail, on real captures cut or corrupted at known places.
 * Record offsets come from tshark: `tshark -r FILE -o frame.show_file_off:TRUE -T fields
 * -e frame.number -e frame.file_off -e frame.cap_len` (the offset of the pcap record header or of
 * the pcapng block holding the frame).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createCaptureParser} from '../../src/capture/parser.js'
import {CaptureFormatError, type CaptureErrorCode, type CaptureReaderOptions} from '../../src/capture/types.js'
import {ROOT} from '../helpers/paths.js'
import {describeWithJa4, ja4Bytes} from '../helpers/skip.js'
import {frameLines, parseBytes, parsePieces} from './collect.js'

const SSH_SCP = ja4Bytes('ssh-scp-1050.pcap') // classic pcap, 1000 frames
const TLS3 = ja4Bytes('tls3.pcapng') // pcapng, 1189 frames
const DHCP = ja4Bytes('dhcp.pcapng') // pcapng, 4 frames

/**
 * Bytes copied with Uint8Array.prototype.set (the only way the capture readers copy input)
 * while `run` runs: a measure of the work done on the input, independent of machine load.
 */
function bytesCopied(run: () => void): number {
  const set = Uint8Array.prototype.set
  let copied = 0
  Uint8Array.prototype.set = function (this: Uint8Array, source: ArrayLike<number>, offset?: number): void {
    copied += source.length
    set.call(this, source, offset)
  }
  try {
    run()
  } finally {
    Uint8Array.prototype.set = set
  }
  return copied
}

/** Parses `bytes`, expecting a CaptureFormatError; returns it and the frames delivered before it. */
function failure(bytes: Uint8Array, opts: CaptureReaderOptions = {}): {error: CaptureFormatError; frames: number} {
  let frames = 0
  const parser = createCaptureParser({frame: () => frames++}, opts)
  try {
    parser.push(bytes)
    parser.end()
  } catch (error) {
    expect(error).toBeInstanceOf(CaptureFormatError)
    return {error: error as CaptureFormatError, frames}
  }
  throw new Error('expected a CaptureFormatError')
}

function expectFailure(bytes: Uint8Array, code: CaptureErrorCode, offset: number, frames: number, opts?: CaptureReaderOptions) {
  const result = failure(bytes, opts)
  expect({code: result.error.code, offset: result.error.offset, frames: result.frames}).toEqual({code, offset, frames})
  return result.error
}

function patched(bytes: Uint8Array, patch: (view: DataView) => void): Uint8Array {
  const copy = new Uint8Array(bytes)
  patch(new DataView(copy.buffer))
  return copy
}

describe('input that is not a capture', () => {
  it('EMPTY for zero bytes', () => {
    expectFailure(new Uint8Array(0), 'EMPTY', 0, 0)
  })

  it('BAD_MAGIC for a text file, showing its first four bytes in hex', () => {
    const readme = readFileSync(join(ROOT, 'README.md')) // starts with "# de"
    const error = expectFailure(readme, 'BAD_MAGIC', 0, 0)
    expect(error.message).toContain('23 20 64 65')
  })

  it('BAD_MAGIC names gzip data handed to the parser undecompressed', () => {
    const error = expectFailure(Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0), 'BAD_MAGIC', 0, 0)
    expect(error.message).toMatch(/1f 8b 08 00.*gzip/)
  })

  describeWithJa4('cut in the file header of a corpus capture', () => {
    it.each([
      ['pcap: 2 bytes', SSH_SCP, 2],
      ['pcap: 23 bytes of the 24-byte file header', SSH_SCP, 23],
      ['pcapng: 11 bytes of the section header', TLS3, 11],
      ['pcapng: 199 bytes of the 200-byte section header', TLS3, 199],
    ])('TRUNCATED_HEADER for %s', (_name, file, length) => {
      expectFailure(file.subarray(0, length), 'TRUNCATED_HEADER', length, 0)
    })

    it('a file header alone is a valid capture of zero frames', () => {
      expect(parseBytes(SSH_SCP.subarray(0, 24)).summary).toMatchObject({frames: 0, format: 'pcap', linkTypes: [1]})
      expect(parseBytes(TLS3.subarray(0, 200)).summary).toMatchObject({frames: 0, format: 'pcapng', linkTypes: []})
    })
  })
})

describeWithJa4('a capture cut in the middle of a record (tcpdump killed) is not an error', () => {
  it.each([
    // ssh-scp-1050.pcap cut at 500000: `capinfos -c` counts 557 packets; frame 558's record
    // header is at 499875 and holds 1514 captured bytes (16 + 1514 needed, 125 present).
    ['pcap mid-record', SSH_SCP, 500_000, 557, {offset: 499_875, have: 125, need: 1530}],
    // Cut inside frame 559's 16-byte record header (at 501405).
    ['pcap mid-header', SSH_SCP, 501_405 + 9, 558, {offset: 501_405, have: 9, need: 16}],
    // tls3.pcapng cut at 500000: capinfos counts 662 packets; frame 663's block is at 498888 and
    // is 1276 bytes long (frame 664's block starts at 500164).
    ['pcapng mid-block', TLS3, 500_000, 662, {offset: 498_888, have: 1112, need: 1276}],
    ['pcapng mid-prefix', TLS3, 498_888 + 5, 662, {offset: 498_888, have: 5, need: 12}],
  ])('%s', (_name, file, cut, frames, truncatedTail) => {
    const whole = parseBytes(file).frames
    const result = parseBytes(file.subarray(0, cut))
    expect(result.summary.truncatedTail).toEqual(truncatedTail)
    expect(result.summary.frames).toBe(frames)
    expect(result.summary.bytes).toBe(cut)
    expect(frameLines(result.frames)).toEqual(frameLines(whole.slice(0, frames)))
  })
})

describeWithJa4('corrupt lengths are reported at the record that holds them', () => {
  // Frame 559 of ssh-scp-1050.pcap: record header at 501405, caplen 1514.
  const FRAME_559 = 501_405

  it('BAD_CAPLEN: captured length over the limit', () => {
    const bad = patched(SSH_SCP, (v) => v.setUint32(FRAME_559 + 8, 0xfffffff0, true))
    expectFailure(bad, 'BAD_CAPLEN', FRAME_559, 558)
  })

  it('BAD_CAPLEN: original length below the captured length', () => {
    const bad = patched(SSH_SCP, (v) => v.setUint32(FRAME_559 + 12, 1513, true))
    expectFailure(bad, 'BAD_CAPLEN', FRAME_559, 558)
  })

  it('BAD_CAPLEN honours maxRecordBytes (frame 7, at 521, is the first over 1000 bytes)', () => {
    expectFailure(SSH_SCP, 'BAD_CAPLEN', 521, 6, {maxRecordBytes: 1000})
  })

  // Frame 500 of tls3.pcapng: EPB at 328464, 1276 bytes (frame 501 starts at 329740).
  const BLOCK_500 = 328_464
  it.each([
    ['not a multiple of 4', 1277],
    ['below 12', 8],
    ['far over the limit', 0x7ffffff0],
  ])('BAD_BLOCK_LENGTH: total length %s', (_name, length) => {
    const bad = patched(TLS3, (v) => v.setUint32(BLOCK_500 + 4, length, true))
    expectFailure(bad, 'BAD_BLOCK_LENGTH', BLOCK_500, 499)
  })

  it('BAD_BLOCK_LENGTH: trailing length differs from the leading one', () => {
    const bad = patched(TLS3, (v) => v.setUint32(BLOCK_500 + 1276 - 4, 1280, true))
    expectFailure(bad, 'BAD_BLOCK_LENGTH', BLOCK_500, 499)
  })

  it('BAD_BLOCK_LENGTH: a plausible wrong length is caught by the trailer check', () => {
    // 1280 instead of 1276: the block swallows 4 bytes of the next one, whose first word (the
    // next block type, 6) is then read as the trailing length.
    const bad = patched(TLS3, (v) => v.setUint32(BLOCK_500 + 4, 1280, true))
    expectFailure(bad, 'BAD_BLOCK_LENGTH', BLOCK_500, 499)
  })

  it('BAD_CAPLEN: EPB captured length larger than the block', () => {
    // dhcp.pcapng frame 2: EPB at 408 with caplen 342; the block has room for 344.
    const bad = patched(DHCP, (v) => v.setUint32(408 + 20, 345, true))
    expectFailure(bad, 'BAD_CAPLEN', 408, 1)
  })

  it('BAD_CAPLEN: EPB original length below its captured length', () => {
    const bad = patched(DHCP, (v) => v.setUint32(408 + 24, 341, true)) // frame 2: caplen 342
    expectFailure(bad, 'BAD_CAPLEN', 408, 1)
  })

  it('BAD_BLOCK: EPB for an interface the section never described', () => {
    const bad = patched(DHCP, (v) => v.setUint32(784 + 8, 5, true)) // frame 3's EPB at 784
    expectFailure(bad, 'BAD_BLOCK', 784, 2)
  })

  it('BAD_BLOCK: interface description option overrunning its block', () => {
    // dhcp.pcapng: 28-byte SHB, then the IDB at 28 whose first option (if_tsresol, length 1) is
    // at 44; a length of 200 runs past the 32-byte block.
    const bad = patched(DHCP, (v) => v.setUint16(44 + 2, 200, true))
    expectFailure(bad, 'BAD_BLOCK', 28, 0)
  })

  it('BAD_BLOCK: section header with an unknown byte-order magic', () => {
    const bad = patched(TLS3, (v) => v.setUint32(8, 0x11223344, true))
    expectFailure(bad, 'BAD_BLOCK', 0, 0)
  })

  it('after an error the parser keeps failing with the same error', () => {
    const bad = patched(SSH_SCP, (v) => v.setUint32(FRAME_559 + 8, 0xfffffff0, true))
    const parser = createCaptureParser({frame() {}})
    let first: unknown
    try {
      parser.push(bad)
    } catch (error) {
      first = error
    }
    expect(first).toBeInstanceOf(CaptureFormatError)
    expect(() => parser.push(SSH_SCP.subarray(0, 10))).toThrow(first as Error)
    expect(() => parser.end()).toThrow(first as Error)
  })
})

describeWithJa4('no quadratic behaviour on corrupt lengths', () => {
  // What these guard is work, not speed (speed is measured by npm run bench): the record reader
  // copies a byte of input at most once more per record header, whatever the chunking. A reader
  // that re-buffered what it already held on every push would copy O(n^2) bytes here.
  it.each([
    ['pcap', SSH_SCP, 501_405, 8, 0xfffffff0, 16],
    ['pcapng', TLS3, 328_464, 4, 0x7ffffff0, 12],
  ])('%s: the error comes as soon as the length field is complete, fed one byte at a time', (_n, file, offset, field, value, prefix) => {
    const bad = patched(file, (v) => v.setUint32(offset + field, value, true))
    const parser = createCaptureParser({frame() {}})
    let pushed = 0
    const copied = bytesCopied(() => {
      expect(() => {
        for (; pushed < bad.length; pushed++) parser.push(bad.subarray(pushed, pushed + 1))
      }).toThrow(CaptureFormatError)
    })
    // The failing push is the last byte of the record header (pcap) / block prefix (pcapng):
    // nothing was buffered waiting for the absurd length to arrive.
    expect(pushed).toBe(offset + prefix - 1)
    // Every byte pushed one at a time is kept (copied) once; record headers once more.
    expect(copied).toBeGreaterThanOrEqual(pushed)
    expect(copied).toBeLessThanOrEqual(2 * (pushed + 1))
  })

  it('a record split across many small chunks is assembled once, with each byte copied once', () => {
    // 1.1 MB pushed in 7-byte chunks gives the same frames as one push.
    const pieces: Uint8Array[] = []
    for (let i = 0; i < SSH_SCP.length; i += 7) pieces.push(SSH_SCP.subarray(i, i + 7))
    let result: ReturnType<typeof parsePieces> | undefined
    const copied = bytesCopied(() => {
      result = parsePieces(pieces)
    })
    expect(frameLines(result!.frames)).toEqual(frameLines(parseBytes(SSH_SCP).frames))
    // Every record (16-byte header + up to 1514 bytes) spans 7-byte chunks, so nearly every byte
    // is assembled; the headers are copied once more from their scratch buffer.
    expect(copied).toBeGreaterThanOrEqual(SSH_SCP.length / 2)
    expect(copied).toBeLessThanOrEqual(2 * SSH_SCP.length)
  })
})
