/**
 * GREASE (RFC 8701 §2): reserved 16-bit values 0x0A0A, 0x1A1A, ... 0xFAFA that clients sprinkle
 * into cipher suites, extensions, groups, versions and signature algorithms so servers keep
 * tolerating unknown values. Fingerprints drop them.
 */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff)
}

/** Bytes as a string, one char per byte (ALPN ids and host names are opaque octets). */
export function latin1(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!)
  return s
}
