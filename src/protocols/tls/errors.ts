/**
 * TlsParseError and the bounds-checked cursor every TLS message parser reads through. A parser
 * never lets a RangeError escape: any read past the end of its input throws a TlsParseError
 * that the connection reader turns into an Issue.
 */

/** Stable codes for malformed TLS structures. */
export type TlsParseErrorCode =
  | 'truncated' // a length or field runs past the end of its enclosing structure
  | 'trailing-bytes' // bytes left over after a structure that must fill its container
  | 'bad-length' // a vector length that breaks its own rules (odd length for a u16 list...)
  | 'bad-value' // a field value the RFC forbids

export class TlsParseError extends Error {
  override readonly name = 'TlsParseError'
  constructor(
    readonly code: TlsParseErrorCode,
    message: string,
    /** Byte offset within the structure being parsed (handshake body, record fragment). */
    readonly offset: number,
  ) {
    super(message)
  }
}

/**
 * A cursor over a Uint8Array view. Vectors (RFC 8446 §3.4) are read as subarray views, never
 * copied. `what` names the field in error messages.
 */
export class TlsCursor {
  private pos: number
  private readonly end: number

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start
    this.end = end
  }

  get offset(): number {
    return this.pos
  }

  get remaining(): number {
    return this.end - this.pos
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new TlsParseError('truncated', `${what}: needs ${n} bytes, ${this.end - this.pos} left`, this.pos)
    }
  }

  u8(what: string): number {
    this.need(1, what)
    return this.bytes[this.pos++]!
  }

  u16(what: string): number {
    this.need(2, what)
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!
    this.pos += 2
    return v
  }

  u24(what: string): number {
    this.need(3, what)
    const v = (this.bytes[this.pos]! << 16) | (this.bytes[this.pos + 1]! << 8) | this.bytes[this.pos + 2]!
    this.pos += 3
    return v
  }

  bytesView(n: number, what: string): Uint8Array {
    this.need(n, what)
    const v = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  /** A vector with a 1-, 2- or 3-byte length prefix, as a view. */
  vector(lengthBytes: 1 | 2 | 3, what: string): Uint8Array {
    const n = lengthBytes === 1 ? this.u8(what) : lengthBytes === 2 ? this.u16(what) : this.u24(what)
    return this.bytesView(n, what)
  }

  /** A cursor over the next vector (length-prefixed), advancing past it. */
  sub(lengthBytes: 1 | 2 | 3, what: string): TlsCursor {
    const n = lengthBytes === 1 ? this.u8(what) : lengthBytes === 2 ? this.u16(what) : this.u24(what)
    this.need(n, what)
    const c = new TlsCursor(this.bytes, this.pos, this.pos + n)
    this.pos += n
    return c
  }

  /** A u16 list with a length prefix (cipher suites, groups, signature schemes). */
  u16List(lengthBytes: 1 | 2, what: string): number[] {
    const start = this.pos
    const n = lengthBytes === 1 ? this.u8(what) : this.u16(what)
    if (n % 2 !== 0) throw new TlsParseError('bad-length', `${what}: odd length ${n}`, start)
    this.need(n, what)
    const out = new Array<number>(n / 2)
    for (let i = 0; i < n / 2; i++) out[i] = (this.bytes[this.pos + 2 * i]! << 8) | this.bytes[this.pos + 2 * i + 1]!
    this.pos += n
    return out
  }

  /** A u8 list with a 1-byte length prefix (compression methods, point formats). */
  u8List(what: string): number[] {
    const n = this.u8(what)
    this.need(n, what)
    const out = new Array<number>(n)
    for (let i = 0; i < n; i++) out[i] = this.bytes[this.pos + i]!
    this.pos += n
    return out
  }

  /** The structure must end here (RFC 8446 §4: extensions and bodies fill their container). */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new TlsParseError('trailing-bytes', `${what}: ${this.end - this.pos} unexpected trailing bytes`, this.pos)
    }
  }
}

/** Lowercase hex of a byte view: one flat string from Buffer's encoder, not a chain of concatenations. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** 0xHHHH rendering of a 16-bit code point, for unknown names and messages. */
export function hex16(value: number): string {
  return '0x' + value.toString(16).padStart(4, '0')
}
