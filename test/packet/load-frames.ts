/**
 * Reads a classic pcap into RawFrames with the pcap-parser package, independent of our own
 * capture reader (written in parallel), so the decoders are tested on real frames now.
 */
import {createReadStream} from 'node:fs'
import pcapParser from 'pcap-parser'
import type {RawFrame} from '../../src/capture/types.js'

export interface LoadedCapture {
  linkType: number
  frames: RawFrame[]
}

interface PcapParserPacket {
  header: {timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number}
  data: Buffer
}

export function loadFrames(file: string): Promise<LoadedCapture> {
  return new Promise((resolve, reject) => {
    const parser = pcapParser.parse(createReadStream(file))
    let linkType = -1
    const frames: RawFrame[] = []
    parser.on('globalHeader', (header: {linkLayerType: number}) => {
      linkType = header.linkLayerType
    })
    parser.on('packet', (packet: PcapParserPacket) => {
      frames.push({
        index: frames.length + 1,
        tsSec: packet.header.timestampSeconds,
        tsNsec: packet.header.timestampMicroseconds * 1000,
        linkType,
        data: new Uint8Array(packet.data.buffer, packet.data.byteOffset, packet.data.length),
        origLen: packet.header.originalLength,
        interfaceId: 0,
      })
    })
    parser.on('end', () => resolve({linkType, frames}))
    parser.on('error', reject)
  })
}
