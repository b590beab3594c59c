/** Types for pcap-parser 0.2.1 (a devDependency used only as a reference reader in tests). */
declare module 'pcap-parser' {
  import type {EventEmitter} from 'node:events'

  export interface PacketHeader {
    timestampSeconds: number
    timestampMicroseconds: number
    capturedLength: number
    originalLength: number
  }
  export interface Packet {
    header: PacketHeader
    data: Buffer
  }
  export function parse(input: string | NodeJS.ReadableStream): EventEmitter
}
