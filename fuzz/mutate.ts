/**
 * Deterministic byte mutations (AFL's havoc stage, simplified): bit flips, interesting values
 * in 8/16/32-bit fields of either byte order, truncation, extension, deletion, duplication and
 * splicing from another seed file. One 32-bit seed decides everything, so a finding is
 * reproduced from (file, seed) alone.
 */

/** xorshift32: fast, reproducible, good enough to pick mutations. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9
  }
  next(): number {
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x >>> 0
    return this.state
  }
  /** 0 <= n < bound. */
  below(bound: number): number {
    return bound <= 1 ? 0 : this.next() % bound
  }
}

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x14, 0x16, 0x17, 0x03]
const INTERESTING_16 = [0x0000, 0x0001, 0x7fff, 0x8000, 0xffff, 0x0303, 0x0304, 0x4000, 0x4100, 0x1fb4]
const INTERESTING_32 = [0x00000000, 0x00000001, 0x7fffffff, 0x80000000, 0xffffffff, 0x00040000, 0x00040001, 0x0000ffff, 0x0a0d0d0a]

/**
 * Positions near the start matter most (file header, first records and the handshake): half of
 * the positions fall in the first 4 KiB.
 */
function position(rng: Rng, length: number): number {
  if (length === 0) return 0
  return rng.below(2) === 0 ? rng.below(Math.min(length, 4096)) : rng.below(length)
}

export function mutate(input: Uint8Array, seed: number, donor: Uint8Array): Uint8Array {
  const rng = new Rng(seed)
  let out: Uint8Array = new Uint8Array(input)
  const rounds = 1 + rng.below(6)
  for (let round = 0; round < rounds; round++) {
    const n = out.length
    switch (rng.below(10)) {
      case 0: // flip one bit
      case 1: {
        if (n === 0) break
        const at = position(rng, n)
        out[at]! ^= 1 << rng.below(8)
        break
      }
      case 2: {
        if (n === 0) break
        out[position(rng, n)] = INTERESTING_8[rng.below(INTERESTING_8.length)]!
        break
      }
      case 3: {
        if (n < 2) break
        const at = position(rng, n - 1)
        const v = INTERESTING_16[rng.below(INTERESTING_16.length)]!
        new DataView(out.buffer, out.byteOffset).setUint16(at, v, rng.below(2) === 0)
        break
      }
      case 4: {
        if (n < 4) break
        const at = position(rng, n - 3)
        const view = new DataView(out.buffer, out.byteOffset)
        const le = rng.below(2) === 0
        // Either an interesting value or the field nudged by a small delta (lengths off by one).
        const v = rng.below(2) === 0 ? INTERESTING_32[rng.below(INTERESTING_32.length)]! : (view.getUint32(at, le) + rng.below(33) - 16) >>> 0
        view.setUint32(at, v, le)
        break
      }
      case 5: // truncate (tcpdump killed, a cut download)
        out = out.subarray(0, rng.below(n + 1))
        break
      case 6: {
        // extend with random bytes
        const extra = new Uint8Array(1 + rng.below(256))
        for (let i = 0; i < extra.length; i++) extra[i] = rng.next() & 0xff
        out = concat(out, extra)
        break
      }
      case 7: {
        // delete a range
        if (n === 0) break
        const at = position(rng, n)
        const len = 1 + rng.below(Math.min(256, n - at))
        out = concat(out.subarray(0, at), out.subarray(at + len))
        break
      }
      case 8: {
        // duplicate a range in place (repeated records, retransmissions)
        if (n === 0) break
        const at = position(rng, n)
        const len = 1 + rng.below(Math.min(2048, n - at))
        out = concat(out.subarray(0, at + len), out.subarray(at, at + len), out.subarray(at + len))
        break
      }
      default: {
        // splice a range of another seed file over this one
        if (donor.length === 0 || n === 0) break
        const from = rng.below(donor.length)
        const len = 1 + rng.below(Math.min(2048, donor.length - from))
        const at = position(rng, n)
        out = concat(out.subarray(0, at), donor.subarray(from, from + len), out.subarray(Math.min(n, at + len)))
        break
      }
    }
  }
  return out
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0
  for (const part of parts) total += part.length
  const out = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
