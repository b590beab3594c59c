/**
 * Test-only loader: real capture files → dissect-layer Packet values, so the tracker runs on
 * real TCP before our own pcap reader and decoder exist. pcap-parser reads classic pcap
 * (microsecond timestamps); the header reads below cover Ethernet, Linux SLL/SLL2, IPv4 and
 * IPv6 without extension headers, which is what the files used by the tests hold.
 */
import pcapParser, {type PcapGlobalHeader, type PcapPacket} from 'pcap-parser'
import type {Packet, TcpOptions} from '../../src/packet/types.js'

export interface CapturedFrame {
  index: number
  tsSec: number
  tsUsec: number
  linkType: number
  data: Uint8Array
  origLen: number
}

/** Reads every frame of a classic pcap file. */
export function readFrames(file: string): Promise<CapturedFrame[]> {
  return new Promise((resolve, reject) => {
    const frames: CapturedFrame[] = []
    let linkType = -1
    const parser = pcapParser.parse(file)
    parser.on('globalHeader', (header: PcapGlobalHeader) => {
      linkType = header.linkLayerType
    })
    parser.on('packet', (packet: PcapPacket) => {
      frames.push({
        index: frames.length + 1,
        tsSec: packet.header.timestampSeconds,
        tsUsec: packet.header.timestampMicroseconds,
        linkType,
        data: new Uint8Array(packet.data),
        origLen: packet.header.originalLength,
      })
    })
    parser.on('error', reject)
    parser.on('end', () => resolve(frames))
  })
}

const LINKTYPE_ETHERNET = 1
const LINKTYPE_LINUX_SLL = 113
const LINKTYPE_LINUX_SLL2 = 276

/** Decodes the TCP packets of a frame (views into `data`); undefined for anything else. */
export function decodeTcpPacket(frame: number, ts: number, linkType: number, data: Uint8Array): Packet | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  let offset: number
  let etherType: number
  if (linkType === LINKTYPE_ETHERNET) {
    offset = 14
    etherType = view.getUint16(12)
    while (etherType === 0x8100 || etherType === 0x88a8) {
      etherType = view.getUint16(offset + 2)
      offset += 4
    }
  } else if (linkType === LINKTYPE_LINUX_SLL) {
    offset = 16
    etherType = view.getUint16(14)
  } else if (linkType === LINKTYPE_LINUX_SLL2) {
    offset = 20
    etherType = view.getUint16(0)
  } else {
    return undefined
  }
  let src: string
  let dst: string
  let protocol: number
  let ttl: number
  let tcpStart: number
  let tcpEnd: number
  let version: 4 | 6
  if (etherType === 0x0800) {
    version = 4
    const ihl = (data[offset]! & 0x0f) * 4
    protocol = data[offset + 9]!
    ttl = data[offset + 8]!
    src = data.subarray(offset + 12, offset + 16).join('.')
    dst = data.subarray(offset + 16, offset + 20).join('.')
    tcpStart = offset + ihl
    tcpEnd = offset + view.getUint16(offset + 2)
  } else if (etherType === 0x86dd) {
    version = 6
    protocol = data[offset + 6]!
    ttl = data[offset + 7]!
    src = ipv6Text(view, offset + 8)
    dst = ipv6Text(view, offset + 24)
    tcpStart = offset + 40
    tcpEnd = tcpStart + view.getUint16(offset + 4)
  } else {
    return undefined
  }
  if (protocol !== 6) return undefined
  const headerLength = (data[tcpStart + 12]! >> 4) * 4
  const payloadStart = tcpStart + headerLength
  return {
    frame,
    ts,
    linkType,
    ip: {version, src, dst, protocol, ttl},
    tcp: {
      srcPort: view.getUint16(tcpStart),
      dstPort: view.getUint16(tcpStart + 2),
      seq: view.getUint32(tcpStart + 4),
      ack: view.getUint32(tcpStart + 8),
      flags: data[tcpStart + 13]!,
      window: view.getUint16(tcpStart + 14),
      options: tcpOptions(data, tcpStart + 20, payloadStart),
      payload: data.subarray(payloadStart, Math.min(tcpEnd, data.length)),
      payloadLength: tcpEnd - payloadStart,
    },
    truncated: tcpEnd > data.length,
  }
}

function ipv6Text(view: DataView, at: number): string {
  const groups: string[] = []
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(at + 2 * i).toString(16))
  // RFC 5952 §4.2: the longest run (2+) of zero groups becomes '::'.
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLength) {
      best = i
      bestLength = j - i
    }
    i = j === i ? i + 1 : j
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`
}

function tcpOptions(data: Uint8Array, at: number, end: number): TcpOptions {
  const options: TcpOptions = {}
  while (at < end) {
    const kind = data[at]!
    if (kind === 0) break
    if (kind === 1) {
      at++
      continue
    }
    const length = data[at + 1]!
    if (length < 2) break
    if (kind === 2) options.mss = (data[at + 2]! << 8) | data[at + 3]!
    else if (kind === 3) options.windowScale = data[at + 2]!
    else if (kind === 4) options.sackPermitted = true
    else if (kind === 8) options.tsVal = new DataView(data.buffer, data.byteOffset + at + 2, 4).getUint32(0)
    at += length
  }
  return options
}

/**
 * Feeds every frame to `push` as a Packet whose bytes live in ONE scratch buffer that is
 * overwritten after each call, as a capture reader reusing its buffer would: anything that
 * keeps a view instead of copying sees garbage.
 */
export function replay(frames: CapturedFrame[], push: (packet: Packet) => void): void {
  const scratch = new Uint8Array(65536 + 256)
  for (const frame of frames) {
    const data = scratch.subarray(0, frame.data.length)
    data.set(frame.data)
    const packet = decodeTcpPacket(frame.index, frame.tsSec + frame.tsUsec / 1e6, frame.linkType, data)
    if (packet !== undefined) push(packet)
    data.fill(0xee)
  }
}
