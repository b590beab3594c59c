/**
 * The format-sniffing capture parser: looks at the first four bytes (never the file name: pcap
 * files named .pcapng exist) and hands every byte to the pcap or pcapng reader.
 */
import {isPcapMagic, PcapReader} from './pcap.js'
import {PcapngReader} from './pcapng.js'
import {
  CaptureFormatError,
  DEFAULT_MAX_RECORD_BYTES,
  type CaptureReaderOptions,
  type CaptureSink,
  type CaptureSummary,
} from './types.js'

/** Incremental capture parser: push bytes in chunks of any size, then end(). */
export interface CaptureParser {
  /**
   * Decodes every complete record in `chunk` (frames go to the sink during the call). The chunk's
   * memory may be reused once push() returns. Throws CaptureFormatError on a corrupt file; after
   * an error every call throws it again.
   */
  push(chunk: Uint8Array): void
  /** Ends the input: throws EMPTY / TRUNCATED_HEADER, else returns the summary. */
  end(): CaptureSummary
}

const MAGIC_BYTES = 4
const PCAPNG_SECTION_HEADER_MAGIC = 0x0a0d0d0a

export function createCaptureParser(sink: CaptureSink, opts: CaptureReaderOptions = {}): CaptureParser {
  return new SniffingParser(sink, opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES)
}

class SniffingParser implements CaptureParser {
  private reader: PcapReader | PcapngReader | undefined
  private readonly magic = new Uint8Array(MAGIC_BYTES)
  private bytes = 0
  private failure: unknown

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxRecordBytes: number,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure
    try {
      let rest = chunk
      if (this.reader === undefined) {
        const take = Math.min(MAGIC_BYTES - this.bytes, chunk.length)
        this.magic.set(chunk.subarray(0, take), this.bytes)
        this.bytes += take
        if (this.bytes < MAGIC_BYTES) return
        this.reader = this.readerFor(this.magic)
        this.reader.push(this.magic)
        rest = chunk.subarray(take)
      }
      this.bytes += rest.length
      this.reader.push(rest)
    } catch (err) {
      this.failure = err
      throw err
    }
  }

  end(): CaptureSummary {
    if (this.failure !== undefined) throw this.failure
    if (this.bytes === 0) {
      this.failure = new CaptureFormatError('EMPTY', 'the capture is empty (0 bytes)', 0)
      throw this.failure
    }
    const reader = this.reader
    const truncatedTail = reader?.finish()
    if (reader === undefined || truncatedTail?.offset === 0) {
      const need = truncatedTail?.need ?? MAGIC_BYTES
      this.failure = new CaptureFormatError(
        'TRUNCATED_HEADER',
        `the capture ends inside its file header (${this.bytes} of ${need} bytes)`,
        this.bytes,
      )
      throw this.failure
    }
    const byteOrder = reader instanceof PcapReader ? (reader.littleEndian ? 'le' : 'be') : (reader.firstByteOrder ?? 'le')
    const summary: CaptureSummary = {
      format: reader.format,
      byteOrder,
      gzip: false,
      frames: reader.frames,
      bytes: this.bytes,
      linkTypes: reader.linkTypes,
      snaplen: reader.snaplen,
    }
    if (truncatedTail !== undefined) summary.truncatedTail = truncatedTail
    return summary
  }

  private readerFor(magic: Uint8Array): PcapReader | PcapngReader {
    const view = new DataView(magic.buffer, magic.byteOffset, MAGIC_BYTES)
    if (isPcapMagic(view)) {
      this.sink.format?.('pcap')
      return new PcapReader(this.sink, this.maxRecordBytes)
    }
    if (view.getUint32(0) === PCAPNG_SECTION_HEADER_MAGIC) {
      this.sink.format?.('pcapng')
      return new PcapngReader(this.sink, this.maxRecordBytes)
    }
    const hex = Array.from(magic, (b) => b.toString(16).padStart(2, '0')).join(' ')
    const gzipHint = magic[0] === 0x1f && magic[1] === 0x8b ? ' (gzip data: decompress it first)' : ''
    throw new CaptureFormatError('BAD_MAGIC', `not a pcap or pcapng file: magic bytes ${hex}${gzipHint}`, 0)
  }
}
