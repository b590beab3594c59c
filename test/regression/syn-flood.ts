/**
 * Writes a classic pcap of SYNs from distinct clients, in chunks, without holding the file: the
 * packet layout is the tls13-lo.pcap SYN (frame 1, a real Linux SYN with MSS, SACK, timestamps
 * and window scale options) with the client address and port changed per packet and the IPv4
 * header checksum recomputed (RFC 791 §3.1).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {FIXTURES} from '../helpers/paths.js'

const CAPTURE = readFileSync(join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap'))
/** pcap file header (24 bytes) of the real capture. */
export const FILE_HEADER = CAPTURE.subarray(0, 24)
const SYN_RECORD = CAPTURE.subarray(24, 24 + 16 + new DataView(CAPTURE.buffer, CAPTURE.byteOffset).getUint32(24 + 8, true))
const ETH = 16 // record header
const IP = ETH + 14

/** `count` SYN records for clients number `first`..first+count-1: 10.x.y.z:port → the SYN's own server. */
export function synRecords(first: number, count: number): Uint8Array {
  const out = new Uint8Array(count * SYN_RECORD.length)
  const view = new DataView(out.buffer)
  for (let i = 0; i < count; i++) {
    const n = first + i
    const at = i * SYN_RECORD.length
    out.set(SYN_RECORD, at)
    view.setUint32(at, 1_700_000_000 + Math.floor(n / 1000), true) // ts_sec: 1000 SYNs a second
    view.setUint32(at + 4, (n % 1000) * 1000, true)
    // Client address 10.0.0.0/8 + port from n: 60,000 ports per address.
    view.setUint32(at + IP + 12, (0x0a000000 | Math.floor(n / 60_000)) >>> 0)
    view.setUint16(at + IP + 20, 1024 + (n % 60_000))
    view.setUint16(at + IP + 10, 0)
    view.setUint16(at + IP + 10, ipv4Checksum(out, at + IP))
  }
  return out
}

function ipv4Checksum(bytes: Uint8Array, at: number): number {
  let sum = 0
  for (let i = 0; i < 20; i += 2) sum += (bytes[at + i]! << 8) | bytes[at + i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}
