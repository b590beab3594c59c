// pcap-parser 0.2.1 ships no types; this is the part load-frames.ts uses.
declare module 'pcap-parser' {
  import type {EventEmitter} from 'node:events'
  import type {Readable} from 'node:stream'
  const pcapParser: {parse(input: Readable | string): EventEmitter}
  export default pcapParser
}
