/**
 * IP address text, formatted once per distinct address: captures carry few addresses in many
 * packets, so each formatter keeps a small direct-mapped cache keyed by the raw address bits.
 * A hit costs a few integer compares and returns the same string instance (cheap Map keys
 * downstream); a miss formats and replaces the slot.
 */

// A Console-side capture carries thousands of Defender addresses: 16 Ki slots keep them (1 Ki
// thrashed on 5,000 addresses and formatted a string for most packets).
const CACHE_SLOTS = 16384 // power of two
const CACHE_MASK = CACHE_SLOTS - 1

const DECIMAL: string[] = Array.from({length: 256}, (_, i) => String(i))

const v4Keys = new Uint32Array(CACHE_SLOTS)
const v4Text: Array<string | undefined> = new Array(CACHE_SLOTS).fill(undefined)

/** Dotted-quad text of the IPv4 address at data[offset..offset+4). The caller checks bounds. */
export function formatIpv4(data: Uint8Array, offset: number): string {
  const a = data[offset]!
  const b = data[offset + 1]!
  const c = data[offset + 2]!
  const d = data[offset + 3]!
  const key = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
  const slot = (key ^ (key >>> 10) ^ (key >>> 20)) & CACHE_MASK
  const cached = v4Text[slot]
  if (cached !== undefined && v4Keys[slot] === key) return cached
  const text = DECIMAL[a]! + '.' + DECIMAL[b]! + '.' + DECIMAL[c]! + '.' + DECIMAL[d]!
  v4Keys[slot] = key
  v4Text[slot] = text
  return text
}

const v6Keys = new Uint32Array(CACHE_SLOTS * 4)
const v6Text: Array<string | undefined> = new Array(CACHE_SLOTS).fill(undefined)
const groups = new Uint16Array(8)

function word(data: Uint8Array, offset: number): number {
  return ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0
}

/** RFC 5952 text of the IPv6 address at data[offset..offset+16). The caller checks bounds. */
export function formatIpv6(data: Uint8Array, offset: number): string {
  const w0 = word(data, offset)
  const w1 = word(data, offset + 4)
  const w2 = word(data, offset + 8)
  const w3 = word(data, offset + 12)
  const mixed = w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3, 0xc2b2ae35)
  const slot = (mixed ^ (mixed >>> 15)) & CACHE_MASK
  const base = slot * 4
  const cached = v6Text[slot]
  if (cached !== undefined && v6Keys[base] === w0 && v6Keys[base + 1] === w1 && v6Keys[base + 2] === w2 && v6Keys[base + 3] === w3) {
    return cached
  }
  const text = ipv6Text(w0, w1, w2, w3)
  v6Keys[base] = w0
  v6Keys[base + 1] = w1
  v6Keys[base + 2] = w2
  v6Keys[base + 3] = w3
  v6Text[slot] = text
  return text
}

function ipv6Text(w0: number, w1: number, w2: number, w3: number): string {
  // RFC 5952 §5: IPv4-mapped addresses (::ffff:0:0/96) keep the dotted quad.
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    return '::ffff:' + DECIMAL[w3 >>> 24]! + '.' + DECIMAL[(w3 >>> 16) & 0xff]! + '.' + DECIMAL[(w3 >>> 8) & 0xff]! + '.' + DECIMAL[w3 & 0xff]!
  }
  groups[0] = w0 >>> 16
  groups[1] = w0
  groups[2] = w1 >>> 16
  groups[3] = w1
  groups[4] = w2 >>> 16
  groups[5] = w2
  groups[6] = w3 >>> 16
  groups[7] = w3
  // RFC 5952 §4.2: compress the longest run of zero groups (the first one on a tie), and
  // never a single zero group (§4.2.2).
  let bestStart = -1
  let bestLength = 1
  let runStart = -1
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && groups[i] === 0) {
      if (runStart < 0) runStart = i
    } else if (runStart >= 0) {
      if (i - runStart > bestLength) {
        bestStart = runStart
        bestLength = i - runStart
      }
      runStart = -1
    }
  }
  // §4.3: lowercase hex, no leading zeros.
  let text = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += i === 0 ? '::' : ':'
      i += bestLength - 1
      continue
    }
    text += groups[i]!.toString(16)
    if (i < 7) text += ':'
  }
  return text
}
