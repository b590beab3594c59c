// Types for the pcap-parser devDependency (0.2.1 ships none), as far as real-packets.ts uses it.
declare module 'pcap-parser' {
  import type {EventEmitter} from 'node:events'
  import type {Readable} from 'node:stream'

  export interface PcapGlobalHeader {
    magicNumber: number
    majorVersion: number
    minorVersion: number
    snapshotLength: number
    linkLayerType: number
  }

  export interface PcapPacket {
    header: {timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number}
    data: Buffer
  }

  export function parse(input: string | Readable): EventEmitter
}
