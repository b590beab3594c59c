/**
 * Classic pcap reader (draft-ietf-opsawg-pcap §3-§5): a 24-byte file header, then records of a
 * 16-byte header plus the captured bytes. Both timestamp precisions (magic 0xA1B2C3D4 = µs,
 * 0xA1B23C4D = ns) in both byte orders.
 */
import {RecordReader} from './records.js'
import {CaptureFormatError, type CaptureFormat, type CaptureSink} from './types.js'

const FILE_HEADER_BYTES = 24
const RECORD_HEADER_BYTES = 16

const MAGIC_MICROSECONDS = 0xa1b2c3d4
const MAGIC_NANOSECONDS = 0xa1b23c4d

/** True when the first four bytes are a classic pcap magic number in either byte order. */
export function isPcapMagic(view: DataView): boolean {
  const be = view.getUint32(0, false)
  const le = view.getUint32(0, true)
  return be === MAGIC_MICROSECONDS || be === MAGIC_NANOSECONDS || le === MAGIC_MICROSECONDS || le === MAGIC_NANOSECONDS
}

export class PcapReader extends RecordReader {
  format: CaptureFormat = 'pcap'
  littleEndian = true
  frames = 0
  snaplen = 0
  linkType = 0
  private nanoseconds = false

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxRecordBytes: number,
  ) {
    super(FILE_HEADER_BYTES, FILE_HEADER_BYTES)
  }

  get linkTypes(): number[] {
    return this.headerBytes === FILE_HEADER_BYTES ? [] : [this.linkType]
  }

  protected recordLength(view: DataView, off: number): number {
    if (this.headerBytes === FILE_HEADER_BYTES) return FILE_HEADER_BYTES
    const caplen = view.getUint32(off + 8, this.littleEndian)
    if (caplen > this.maxRecordBytes) {
      throw new CaptureFormatError(
        'BAD_CAPLEN',
        `pcap record at offset ${this.offset}: captured length ${caplen} exceeds the ${this.maxRecordBytes}-byte limit`,
        this.offset,
      )
    }
    return RECORD_HEADER_BYTES + caplen
  }

  protected record(buf: Uint8Array, view: DataView, off: number, length: number): void {
    if (this.headerBytes === FILE_HEADER_BYTES) {
      this.fileHeader(view, off)
      return
    }
    const le = this.littleEndian
    let tsSec = view.getUint32(off, le)
    const fraction = view.getUint32(off + 4, le)
    const caplen = length - RECORD_HEADER_BYTES
    const origLen = view.getUint32(off + 12, le)
    if (origLen < caplen) {
      throw new CaptureFormatError(
        'BAD_CAPLEN',
        `pcap record at offset ${this.offset}: captured length ${caplen} exceeds the original length ${origLen}`,
        this.offset,
      )
    }
    let tsNsec = this.nanoseconds ? fraction : fraction * 1000
    // A writer bug can put a whole second or more in the fraction; carry it so tsNsec stays < 1e9.
    if (tsNsec >= 1_000_000_000) {
      tsSec += Math.floor(tsNsec / 1_000_000_000)
      tsNsec %= 1_000_000_000
    }
    const start = off + RECORD_HEADER_BYTES
    // The sink's fast path (CaptureSink.skipFrame): asked first, with the bytes in place.
    if (this.sink.skipFrame?.(buf, start, off + length, this.linkType, tsSec, tsNsec, origLen) === true) {
      this.frames++
      return
    }
    this.sink.frame({
      index: ++this.frames,
      tsSec,
      tsNsec,
      linkType: this.linkType,
      data: buf.subarray(start, off + length),
      origLen,
      interfaceId: 0,
    })
  }

  private fileHeader(view: DataView, off: number): void {
    // The caller sniffed a valid magic; reading it big-endian tells the byte order.
    const magicBE = view.getUint32(off, false)
    this.littleEndian = magicBE !== MAGIC_MICROSECONDS && magicBE !== MAGIC_NANOSECONDS
    this.nanoseconds = view.getUint32(off, this.littleEndian) === MAGIC_NANOSECONDS
    this.format = this.nanoseconds ? 'pcap-ns' : 'pcap'
    this.snaplen = view.getUint32(off + 16, this.littleEndian)
    // The link type is the low 16 bits; the upper bits carry the optional FCS length (§4), which
    // frames do not need: their origLen/data already say what was captured.
    this.linkType = view.getUint32(off + 20, this.littleEndian) & 0xffff
    this.headerBytes = RECORD_HEADER_BYTES
  }
}
