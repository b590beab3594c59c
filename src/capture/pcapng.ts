/**
 * pcapng reader (draft-ietf-opsawg-pcapng). Every block is `type, total length, body, total
 * length` (§3.1). A file is one or more sections; each Section Header Block sets the byte order
 * and forgets the interfaces of the previous section (§4.1). Packets come in Enhanced Packet
 * Blocks (§4.3), Simple Packet Blocks (§4.4) or the obsolete Packet Block (Appendix A); TLS key
 * logs in Decryption Secrets Blocks (§4.7). Every other block type is skipped by its length.
 */
import {RecordReader} from './records.js'
import {CaptureFormatError, type CaptureSink} from './types.js'

const BLOCK_SECTION_HEADER = 0x0a0d0d0a
const BLOCK_INTERFACE_DESCRIPTION = 0x00000001
const BLOCK_PACKET_OBSOLETE = 0x00000002
const BLOCK_SIMPLE_PACKET = 0x00000003
const BLOCK_ENHANCED_PACKET = 0x00000006
const BLOCK_DECRYPTION_SECRETS = 0x0000000a

const BYTE_ORDER_MAGIC = 0x1a2b3c4d
/** The byte-order magic as a little-endian read sees it in a big-endian section. */
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a

/** type + total length + the first body word: enough to read any block's length, even an SHB's. */
const BLOCK_PREFIX_BYTES = 12
/** Smallest well-formed block: type, total length, trailing total length (§3.1). */
const MIN_BLOCK_BYTES = 12
/** EPB / PB: header, interface id, timestamp, two lengths, trailer; then data and options. */
const PACKET_BLOCK_FIXED_BYTES = 32
/** Room allowed beyond maxRecordBytes for a packet block's fixed fields and options. */
const BLOCK_OVERHEAD_ALLOWANCE = 64 * 1024

const OPT_ENDOFOPT = 0
const OPT_IF_TSRESOL = 9
const OPT_IF_TSOFFSET = 14

/** Timestamp conversion of one interface (§4.2: if_tsresol, if_tsoffset). */
interface Interface {
  linkType: number
  snaplen: number
  /** The if_tsresol byte (default 6: microseconds). */
  resolution: number
  /** Timestamp units per second when the resolution is 10^-n with n <= 9 (the fast exact path). */
  unitsPerSecond: number
  /** Nanoseconds per unit on the fast path, else 0. */
  nsPerUnit: number
  /** if_tsoffset: seconds to add to every timestamp. */
  offsetSeconds: number
}

export class PcapngReader extends RecordReader {
  readonly format = 'pcapng'
  littleEndian = true
  /** Byte order of the first section, for the summary. */
  firstByteOrder: 'le' | 'be' | undefined
  frames = 0
  /** Largest IDB snaplen; 0 once any interface is unlimited (snaplen 0). */
  snaplen = 0
  private snaplenUnlimited = false
  readonly linkTypes: number[] = []

  private interfaces: Interface[] = []
  private readonly maxBlockBytes: number
  /** Scratch results of `timestamp()`, to avoid an allocation per packet. */
  private tsSec = 0
  private tsNsec = 0

  constructor(
    private readonly sink: CaptureSink,
    private readonly maxRecordBytes: number,
  ) {
    super(BLOCK_PREFIX_BYTES, BLOCK_PREFIX_BYTES)
    this.maxBlockBytes = maxRecordBytes + BLOCK_OVERHEAD_ALLOWANCE
  }

  protected recordLength(view: DataView, off: number): number {
    // The SHB type is a palindrome; its byte-order magic says how to read everything after it.
    if (view.getUint32(off, true) === BLOCK_SECTION_HEADER) {
      const magic = view.getUint32(off + 8, true)
      if (magic === BYTE_ORDER_MAGIC) this.littleEndian = true
      else if (magic === BYTE_ORDER_MAGIC_SWAPPED) this.littleEndian = false
      else throw this.error('BAD_BLOCK', `section header byte-order magic 0x${magic.toString(16).padStart(8, '0')} is invalid`)
    }
    const length = view.getUint32(off + 4, this.littleEndian)
    if (length < MIN_BLOCK_BYTES || (length & 3) !== 0 || length > this.maxBlockBytes) {
      throw this.error(
        'BAD_BLOCK_LENGTH',
        `block total length ${length} is invalid (must be a multiple of 4, ${MIN_BLOCK_BYTES}..${this.maxBlockBytes})`,
      )
    }
    return length
  }

  protected record(buf: Uint8Array, view: DataView, off: number, length: number): void {
    const le = this.littleEndian
    const trailer = view.getUint32(off + length - 4, le)
    if (trailer !== length) {
      throw this.error('BAD_BLOCK_LENGTH', `block total length ${length} differs from its trailing copy ${trailer}`)
    }
    switch (view.getUint32(off, le)) {
      case BLOCK_ENHANCED_PACKET:
        this.requireLength(length, PACKET_BLOCK_FIXED_BYTES, 'enhanced packet block')
        this.packet(buf, view, off, length, view.getUint32(off + 8, le))
        break
      case BLOCK_SIMPLE_PACKET:
        this.requireLength(length, 16, 'simple packet block')
        this.simplePacket(buf, view, off, length)
        break
      case BLOCK_PACKET_OBSOLETE:
        this.requireLength(length, PACKET_BLOCK_FIXED_BYTES, 'packet block')
        this.packet(buf, view, off, length, view.getUint16(off + 8, le))
        break
      case BLOCK_INTERFACE_DESCRIPTION:
        this.requireLength(length, 20, 'interface description block')
        this.interfaceDescription(view, off, length)
        break
      case BLOCK_SECTION_HEADER:
        this.requireLength(length, 28, 'section header block')
        this.sectionHeader(view, off)
        break
      case BLOCK_DECRYPTION_SECRETS:
        this.requireLength(length, 20, 'decryption secrets block')
        this.decryptionSecrets(buf, view, off, length)
        break
      default:
        // Statistics, name resolution, custom and unknown blocks: nothing a frame needs.
        break
    }
  }

  /** EPB (§4.3) and the obsolete Packet Block (Appendix A) share the layout after the interface id. */
  private packet(buf: Uint8Array, view: DataView, off: number, length: number, interfaceId: number): void {
    const le = this.littleEndian
    const iface = this.interfaces[interfaceId]
    if (iface === undefined) {
      throw this.error('BAD_BLOCK', `packet for interface ${interfaceId}, but the section describes ${this.interfaces.length}`)
    }
    const caplen = view.getUint32(off + 20, le)
    const origLen = view.getUint32(off + 24, le)
    const room = length - PACKET_BLOCK_FIXED_BYTES
    if (caplen > room || caplen > this.maxRecordBytes || origLen < caplen) {
      throw new CaptureFormatError(
        'BAD_CAPLEN',
        `pcapng packet block at offset ${this.offset}: captured length ${caplen} is inconsistent ` +
          `(original length ${origLen}, block room ${room}, limit ${this.maxRecordBytes})`,
        this.offset,
      )
    }
    this.timestamp(iface, view.getUint32(off + 12, le), view.getUint32(off + 16, le))
    const start = off + 28
    // The sink's fast path (CaptureSink.skipFrame): asked first, with the bytes in place.
    if (this.sink.skipFrame?.(buf, start, start + caplen, iface.linkType, this.tsSec, this.tsNsec, origLen) === true) {
      this.frames++
      return
    }
    this.sink.frame({
      index: ++this.frames,
      tsSec: this.tsSec,
      tsNsec: this.tsNsec,
      linkType: iface.linkType,
      data: buf.subarray(start, start + caplen),
      origLen,
      interfaceId,
    })
  }

  /** SPB (§4.4): interface 0, no timestamp; captured length is implied by snaplen and block room. */
  private simplePacket(buf: Uint8Array, view: DataView, off: number, length: number): void {
    const iface = this.interfaces[0]
    if (iface === undefined) throw this.error('BAD_BLOCK', 'simple packet block before any interface description')
    const origLen = view.getUint32(off + 8, this.littleEndian)
    let caplen = Math.min(origLen, length - 16)
    if (iface.snaplen !== 0) caplen = Math.min(caplen, iface.snaplen)
    const start = off + 12
    if (this.sink.skipFrame?.(buf, start, start + caplen, iface.linkType, 0, 0, origLen) === true) {
      this.frames++
      return
    }
    this.sink.frame({
      index: ++this.frames,
      tsSec: 0,
      tsNsec: 0,
      linkType: iface.linkType,
      data: buf.subarray(start, start + caplen),
      origLen,
      interfaceId: 0,
    })
  }

  private sectionHeader(view: DataView, off: number): void {
    const major = view.getUint16(off + 12, this.littleEndian)
    if (major !== 1) throw this.error('BAD_BLOCK', `section header major version ${major} is not 1`)
    this.interfaces = []
    this.firstByteOrder ??= this.littleEndian ? 'le' : 'be'
  }

  private interfaceDescription(view: DataView, off: number, length: number): void {
    const le = this.littleEndian
    const iface: Interface = {
      linkType: view.getUint16(off + 8, le),
      snaplen: view.getUint32(off + 12, le),
      resolution: 6,
      unitsPerSecond: 1_000_000,
      nsPerUnit: 1000,
      offsetSeconds: 0,
    }
    const end = off + length - 4
    let pos = off + 16
    while (end - pos >= 4) {
      const code = view.getUint16(pos, le)
      const optionLength = view.getUint16(pos + 2, le)
      if (code === OPT_ENDOFOPT) break
      if (pos + 4 + optionLength > end) {
        throw this.error('BAD_BLOCK', `interface description option ${code} overruns the block`)
      }
      if (code === OPT_IF_TSRESOL && optionLength === 1) {
        // Most significant bit clear: 10^-value seconds; set: 2^-(value & 0x7f) seconds.
        const resolution = view.getUint8(pos + 4)
        const decimal = (resolution & 0x80) === 0 && resolution <= 9
        iface.resolution = resolution
        iface.unitsPerSecond = decimal ? 10 ** resolution : 0
        iface.nsPerUnit = decimal ? 10 ** (9 - resolution) : 0
      } else if (code === OPT_IF_TSOFFSET && optionLength === 8) {
        iface.offsetSeconds = Number(view.getBigInt64(pos + 4, le))
      }
      pos += 4 + ((optionLength + 3) & ~3)
    }
    this.interfaces.push(iface)
    if (!this.linkTypes.includes(iface.linkType)) this.linkTypes.push(iface.linkType)
    if (iface.snaplen === 0) this.snaplenUnlimited = true
    this.snaplen = this.snaplenUnlimited ? 0 : Math.max(this.snaplen, iface.snaplen)
  }

  private decryptionSecrets(buf: Uint8Array, view: DataView, off: number, length: number): void {
    const secretsType = view.getUint32(off + 8, this.littleEndian)
    const secretsLength = view.getUint32(off + 12, this.littleEndian)
    if (secretsLength > length - 20) {
      throw this.error('BAD_BLOCK', `decryption secrets length ${secretsLength} overruns the block`)
    }
    this.sink.secrets?.({secretsType, data: buf.subarray(off + 16, off + 16 + secretsLength), offset: this.offset})
  }

  /** Converts a 64-bit count of interface units to exact seconds + nanoseconds (truncated below 1 ns). */
  private timestamp(iface: Interface, high: number, low: number): void {
    const units = iface.unitsPerSecond
    if (iface.nsPerUnit !== 0) {
      // Long division of high:low by `units` (<= 1e9) in two steps keeps every dividend below 2^53,
      // and the float quotient's error (< 2^-5 / units) is smaller than its distance to the next
      // integer (>= 1 / units), so Math.floor gives the exact integer quotient.
      const upper = high * 0x10000 + (low >>> 16)
      const q1 = Math.floor(upper / units)
      const lower = (upper - q1 * units) * 0x10000 + (low & 0xffff)
      const q2 = Math.floor(lower / units)
      this.tsSec = q1 * 0x10000 + q2 + iface.offsetSeconds
      this.tsNsec = (lower - q2 * units) * iface.nsPerUnit
      return
    }
    // Binary or finer-than-nanosecond resolutions are rare: BigInt keeps them exact.
    const exponent = BigInt(iface.resolution & 0x7f)
    const perSecond = iface.resolution & 0x80 ? 1n << exponent : 10n ** exponent
    const ticks = (BigInt(high) << 32n) | BigInt(low)
    this.tsSec = Number(ticks / perSecond) + iface.offsetSeconds
    this.tsNsec = Number(((ticks % perSecond) * 1_000_000_000n) / perSecond)
  }

  private requireLength(length: number, minimum: number, what: string): void {
    if (length < minimum) throw this.error('BAD_BLOCK', `${what} of ${length} bytes is shorter than its ${minimum}-byte minimum`)
  }

  private error(code: 'BAD_BLOCK' | 'BAD_BLOCK_LENGTH', detail: string): CaptureFormatError {
    return new CaptureFormatError(code, `pcapng block at offset ${this.offset}: ${detail}`, this.offset)
  }
}
