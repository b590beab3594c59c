/**
 * A real TLS 1.3 connection to replay: the segments of one TCP connection read from a fixture
 * capture (fixtures/tls/openssl13-mtls/capture.pcap: openssl s_client with a client certificate
 * against openssl s_server on 8084, TLS 1.3 mutual auth, close_notify both ways, FIN both ways).
 * Sequence and acknowledgment numbers are kept relative to each side's ISN so the connection can
 * be written again with other addresses, ports and ISNs (see write.ts).
 */
import {readFileSync} from 'node:fs'

export interface TemplateSegment {
  fromClient: boolean
  flags: number
  /** Sequence number relative to the sender's ISN. */
  relSeq: number
  /** Acknowledgment number relative to the receiver's ISN (0 when ACK is not set). */
  relAck: number
  window: number
  /** TCP options as captured (MSS and timestamps are rewritten when written). */
  options: Uint8Array
  payload: Uint8Array
  /** Seconds since the connection's first segment. */
  ts: number
}

export interface ConnectionTemplate {
  serverPort: number
  segments: TemplateSegment[]
  /** Captured TCP payload bytes, both directions. */
  payloadBytes: number
}

const TCP_SYN = 0x02
const TCP_ACK = 0x10

/** Reads the single TCP connection of a little-endian classic pcap with Ethernet framing. */
export function readTemplate(path: string): ConnectionTemplate {
  const file = readFileSync(path)
  if (file.readUInt32LE(0) !== 0xa1b2c3d4 || file.readUInt32LE(20) !== 1) throw new Error(`${path}: expected a µs little-endian Ethernet pcap`)
  const segments: TemplateSegment[] = []
  let clientPort = -1
  let serverPort = -1
  let clientIsn = 0
  let serverIsn = 0
  let payloadBytes = 0
  let firstTs = -1
  for (let off = 24; off + 16 <= file.length; ) {
    const ts = file.readUInt32LE(off) + file.readUInt32LE(off + 4) / 1e6
    if (firstTs < 0) firstTs = ts
    const caplen = file.readUInt32LE(off + 8)
    const frame = file.subarray(off + 16, off + 16 + caplen)
    off += 16 + caplen
    if (frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 6) continue
    const ip = frame.subarray(14)
    const ipHeader = (ip[0]! & 0x0f) * 4
    const totalLength = ip.readUInt16BE(2)
    const tcp = ip.subarray(ipHeader, totalLength)
    const tcpHeader = (tcp[12]! >> 4) * 4
    const srcPort = tcp.readUInt16BE(0)
    const dstPort = tcp.readUInt16BE(2)
    const flags = tcp[13]!
    const seq = tcp.readUInt32BE(4)
    const ack = tcp.readUInt32BE(8)
    if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      clientPort = srcPort
      serverPort = dstPort
      clientIsn = seq
    } else if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
      serverIsn = seq
    }
    if (clientPort < 0) throw new Error(`${path}: the capture must start with the client's SYN`)
    const fromClient = srcPort === clientPort
    const payload = Uint8Array.from(tcp.subarray(tcpHeader))
    payloadBytes += payload.length
    segments.push({
      fromClient,
      flags,
      relSeq: (seq - (fromClient ? clientIsn : serverIsn)) >>> 0,
      relAck: (flags & TCP_ACK) !== 0 ? (ack - (fromClient ? serverIsn : clientIsn)) >>> 0 : 0,
      window: tcp.readUInt16BE(14),
      options: Uint8Array.from(tcp.subarray(20, tcpHeader)),
      payload,
      ts: ts - firstTs,
    })
  }
  return {serverPort, segments, payloadBytes}
}
