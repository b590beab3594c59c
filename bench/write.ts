/**
 * Writes Ethernet frames (IPv4 or IPv6, TCP or UDP) with correct IPv4 header and TCP/UDP
 * checksums into a classic pcap (µs, little-endian, LINKTYPE_ETHERNET), buffered in 4 MiB.
 * Frames shorter than Ethernet's 60-byte minimum are padded as a NIC receives them.
 */
import {closeSync, openSync, writeSync} from 'node:fs'

const BUFFER_BYTES = 4 << 20
const ETHERNET_MIN_FRAME = 60

export interface Host {
  v6: boolean
  /** 4 or 16 address bytes. */
  addr: Uint8Array
  mac: Uint8Array
}

export interface TcpFields {
  srcPort: number
  dstPort: number
  seq: number
  ack: number
  flags: number
  window: number
  options: Uint8Array
  /** Rewrites done on the written option bytes: MSS value, timestamp offsets (0 = keep). */
  mss?: number
  tsValOffset?: number
  tsEcrOffset?: number
}

export class PcapWriter {
  private readonly fd: number
  private readonly buf = Buffer.alloc(BUFFER_BYTES)
  private used = 0
  /** Bytes written to the file so far, header included. */
  bytes = 0
  frames = 0
  private ipId = 1

  constructor(path: string) {
    this.fd = openSync(path, 'w')
    const header = Buffer.alloc(24)
    header.writeUInt32LE(0xa1b2c3d4, 0)
    header.writeUInt16LE(2, 4)
    header.writeUInt16LE(4, 6)
    header.writeUInt32LE(262144, 16)
    header.writeUInt32LE(1, 20)
    header.copy(this.buf, 0)
    this.used = 24
    this.bytes = 24
  }

  close(): void {
    this.flush()
    closeSync(this.fd)
  }

  /** Writes one TCP segment from `src` to `dst` at time `ts` (seconds). */
  tcp(ts: number, src: Host, dst: Host, tcp: TcpFields, payload: Uint8Array): void {
    const tcpLength = 20 + tcp.options.length + payload.length
    const frame = this.begin(ts, src, dst, 6, tcpLength)
    const b = this.buf
    const t = frame.l4
    b.writeUInt16BE(tcp.srcPort, t)
    b.writeUInt16BE(tcp.dstPort, t + 2)
    b.writeUInt32BE(tcp.seq >>> 0, t + 4)
    b.writeUInt32BE(tcp.ack >>> 0, t + 8)
    b[t + 12] = ((20 + tcp.options.length) / 4) << 4
    b[t + 13] = tcp.flags
    b.writeUInt16BE(tcp.window, t + 14)
    b.writeUInt32BE(0, t + 16)
    b.set(tcp.options, t + 20)
    rewriteOptions(b, t + 20, t + 20 + tcp.options.length, tcp)
    b.set(payload, t + 20 + tcp.options.length)
    b.writeUInt16BE(transportChecksum(b, frame.ip, src.v6, t, tcpLength, 6), t + 16)
    this.end(frame)
  }

  /** Writes one UDP datagram. */
  udp(ts: number, src: Host, dst: Host, srcPort: number, dstPort: number, payload: Uint8Array): void {
    const udpLength = 8 + payload.length
    const frame = this.begin(ts, src, dst, 17, udpLength)
    const b = this.buf
    const u = frame.l4
    b.writeUInt16BE(srcPort, u)
    b.writeUInt16BE(dstPort, u + 2)
    b.writeUInt16BE(udpLength, u + 4)
    b.writeUInt16BE(0, u + 6)
    b.set(payload, u + 8)
    b.writeUInt16BE(transportChecksum(b, frame.ip, src.v6, u, udpLength, 17) || 0xffff, u + 6)
    this.end(frame)
  }

  private begin(ts: number, src: Host, dst: Host, protocol: number, l4Length: number): {record: number; ip: number; l4: number; length: number} {
    const ipHeader = src.v6 ? 40 : 20
    const length = Math.max(ETHERNET_MIN_FRAME, 14 + ipHeader + l4Length)
    if (this.used + 16 + length > BUFFER_BYTES) this.flush()
    const b = this.buf
    const record = this.used
    const sec = Math.floor(ts)
    b.writeUInt32LE(sec, record)
    b.writeUInt32LE(Math.min(999_999, Math.round((ts - sec) * 1e6)), record + 4)
    b.writeUInt32LE(length, record + 8)
    b.writeUInt32LE(length, record + 12)
    const eth = record + 16
    b.set(dst.mac, eth)
    b.set(src.mac, eth + 6)
    b.writeUInt16BE(src.v6 ? 0x86dd : 0x0800, eth + 12)
    const ip = eth + 14
    if (src.v6) {
      b.writeUInt32BE(0x60000000, ip)
      b.writeUInt16BE(l4Length, ip + 4)
      b[ip + 6] = protocol
      b[ip + 7] = 64
      b.set(src.addr, ip + 8)
      b.set(dst.addr, ip + 24)
    } else {
      b[ip] = 0x45
      b[ip + 1] = 0
      b.writeUInt16BE(20 + l4Length, ip + 2)
      b.writeUInt16BE(this.ipId, ip + 4)
      this.ipId = (this.ipId + 1) & 0xffff
      b.writeUInt16BE(0x4000, ip + 6) // DF
      b[ip + 8] = 64
      b[ip + 9] = protocol
      b.writeUInt16BE(0, ip + 10)
      b.set(src.addr, ip + 12)
      b.set(dst.addr, ip + 16)
      b.writeUInt16BE(finish(sum16(b, ip, ip + 20, 0)), ip + 10)
    }
    const end = eth + length
    b.fill(0, ip + ipHeader + l4Length, end)
    return {record, ip, l4: ip + ipHeader, length}
  }

  private end(frame: {record: number; length: number}): void {
    this.used = frame.record + 16 + frame.length
    this.bytes += 16 + frame.length
    this.frames++
  }

  private flush(): void {
    let off = 0
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off)
    this.used = 0
  }
}

/** MSS to the link's value; timestamps shifted per side so connections do not share TSvals. */
function rewriteOptions(b: Buffer, start: number, end: number, tcp: TcpFields): void {
  for (let i = start; i < end; ) {
    const kind = b[i]!
    if (kind === 0) break
    if (kind === 1) {
      i++
      continue
    }
    const length = b[i + 1]!
    if (length < 2) break
    if (kind === 2 && length === 4 && tcp.mss !== undefined) b.writeUInt16BE(tcp.mss, i + 2)
    if (kind === 8 && length === 10) {
      b.writeUInt32BE((b.readUInt32BE(i + 2) + (tcp.tsValOffset ?? 0)) >>> 0, i + 2)
      const ecr = b.readUInt32BE(i + 6)
      if (ecr !== 0) b.writeUInt32BE((ecr + (tcp.tsEcrOffset ?? 0)) >>> 0, i + 6)
    }
    i += length
  }
}

/** One's-complement sum of 16-bit words (RFC 1071). */
function sum16(b: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial
  let i = start
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!
  if (i < end) sum += b[i]! << 8
  return sum
}

function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

/** TCP/UDP checksum with the IPv4 (RFC 9293 §3.1) or IPv6 (RFC 8200 §8.1) pseudo-header. */
function transportChecksum(b: Uint8Array, ip: number, v6: boolean, l4: number, l4Length: number, protocol: number): number {
  let sum = v6 ? sum16(b, ip + 8, ip + 40, 0) : sum16(b, ip + 12, ip + 20, 0)
  sum += protocol + (l4Length >>> 16) + (l4Length & 0xffff)
  return finish(sum16(b, l4, l4 + l4Length, sum))
}
