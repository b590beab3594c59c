/**
 * Counting the servers a capture talked to instead of the Console, for the "no Console traffic"
 * hint, without allocating per packet.
 */
import {formatIpv4, formatIpv6} from '../packet/address.js'
import type {OtherTraffic} from '../model/report.js'

/**
 * Packets per server endpoint (address, port), for the "seen instead" hint: an open-addressing
 * table over typed arrays, so counting a packet allocates nothing. Keeps the first `limit`
 * endpoints seen; top() ranks by packets, ties in order of first appearance.
 */
export class ServerCounter {
  /** Per endpoint: address as four 32-bit words (IPv4: one word), IPv6 flag, port, packets. */
  private readonly words: Uint32Array
  private readonly v6: Uint8Array
  private readonly ports: Uint16Array
  private readonly packets: Float64Array
  private size = 0
  /** Hash slot → endpoint index + 1 (0 = empty); a power of two at least twice `limit`. */
  private readonly slots: Int32Array
  private readonly scratch = new Uint8Array(16)

  constructor(private readonly limit: number) {
    this.words = new Uint32Array(limit * 4)
    this.v6 = new Uint8Array(limit)
    this.ports = new Uint16Array(limit)
    this.packets = new Float64Array(limit)
    let slots = 1
    while (slots < limit * 2) slots *= 2
    this.slots = new Int32Array(slots)
  }

  /** Counts a packet to the address at data[at..] (4 or 16 bytes), `port`. */
  countBytes(data: Uint8Array, at: number, v6: boolean, port: number): void {
    const w0 = word(data, at)
    if (v6) this.count(w0, word(data, at + 4), word(data, at + 8), word(data, at + 12), 1, port)
    else this.count(w0, 0, 0, 0, 0, port)
  }

  /** Counts a packet to a decoded address (dotted quad or RFC 5952 text). */
  countText(address: string, v6: boolean, port: number): void {
    const bytes = this.scratch
    if (!parseAddress(address, v6, bytes)) return
    this.countBytes(bytes, 0, v6, port)
  }

  top(n: number): OtherTraffic['servers'] {
    const order = Array.from({length: this.size}, (_, i) => i)
    // Array.prototype.sort is stable: ties stay in order of first appearance.
    order.sort((a, b) => this.packets[b]! - this.packets[a]!)
    const bytes = new Uint8Array(16)
    return order.slice(0, n).map((i) => {
      const view = new DataView(bytes.buffer)
      for (let k = 0; k < 4; k++) view.setUint32(k * 4, this.words[i * 4 + k]!)
      const ip = this.v6[i] === 1 ? formatIpv6(bytes, 0) : formatIpv4(bytes, 0)
      return {ip, port: this.ports[i]!, packets: this.packets[i]!}
    })
  }

  private count(w0: number, w1: number, w2: number, w3: number, v6: number, port: number): void {
    const mask = this.slots.length - 1
    let h = Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3, 0xc2b2ae35) ^ port, 0x27d4eb2d)
    h = (h ^ (h >>> 15)) & mask
    const words = this.words
    for (;;) {
      const entry = this.slots[h]! - 1
      if (entry < 0) break
      const base = entry * 4
      if (words[base] === w0 && this.ports[entry] === port && this.v6[entry] === v6 && words[base + 1] === w1 && words[base + 2] === w2 && words[base + 3] === w3) {
        this.packets[entry]!++
        return
      }
      h = (h + 1) & mask
    }
    if (this.size >= this.limit) return
    const entry = this.size++
    words[entry * 4] = w0
    words[entry * 4 + 1] = w1
    words[entry * 4 + 2] = w2
    words[entry * 4 + 3] = w3
    this.v6[entry] = v6
    this.ports[entry] = port
    this.packets[entry] = 1
    this.slots[h] = entry + 1
  }
}

function word(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0
}

/** Writes the bytes of a dotted quad or an RFC 4291 §2.2 IPv6 text address into `out`. */
function parseAddress(text: string, v6: boolean, out: Uint8Array): boolean {
  out.fill(0)
  if (!v6) {
    const parts = text.split('.')
    for (let i = 0; i < 4; i++) out[i] = Number(parts[i])
    return parts.length === 4
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  // RFC 5952 §5: an IPv4-mapped address ends in a dotted quad, two groups' worth.
  const groups = (part: string | undefined) =>
    (part ? part.split(':') : []).flatMap((group) => {
      if (!group.includes('.')) return [group]
      const [a, b, c, d] = group.split('.').map(Number)
      return [((a! << 8) | b!).toString(16), ((c! << 8) | d!).toString(16)]
    })
  const front = groups(head)
  const back = groups(tail)
  const all = [...front, ...new Array<string>(8 - front.length - back.length).fill('0'), ...back]
  if (all.length !== 8) return false
  for (let i = 0; i < 8; i++) {
    const value = Number.parseInt(all[i]!, 16)
    out[i * 2] = value >> 8
    out[i * 2 + 1] = value & 0xff
  }
  return true
}
