/**
 * The first look at every frame of a capture: most of a busy capture is not Console traffic, so
 * its headers are read at fixed offsets (dissect/prefilter.ts) and it is counted, not decoded in
 * full. The Analyzer does this on its own thread; the capture worker (capture-worker.ts) does the
 * same on another, so that the two agree frame for frame.
 */
import {FRAME_DECODE, FRAME_TCP, newPrefilteredTcp, prefilterFrame} from '../dissect/prefilter.js'
import {TCP_ACK, TCP_SYN} from '../dissect/types.js'
import {ServerCounter} from './server-counter.js'

/** Not Console traffic: counted (other servers) and passed over. */
export const PASSED_OVER = 0
/** A plain TCP segment on a Console port: FrameTriage.fast holds its header offsets. */
export const CONSOLE_TCP = 1
/** Tunnels, fragments, odd headers or link types: decodePacket() decides. */
export const DECODE = 2
export type FrameHandling = typeof PASSED_OVER | typeof CONSOLE_TCP | typeof DECODE

/** How many distinct non-Console servers to remember for the "seen instead" hint. */
export const OTHER_TRAFFIC_LIMIT = 10_000

export class FrameTriage {
  /** What prefilterFrame() read of the last frame triaged: reused for every frame. */
  readonly fast = newPrefilteredTcp()
  /** Servers of the TCP traffic passed over, for the "no Console traffic" hint. */
  readonly otherServers = new ServerCounter(OTHER_TRAFFIC_LIMIT)
  /**
   * Whether passed-over TCP is still counted in otherServers: the hint matters only when no
   * Console connection turns up at all, so the Analyzer stops once one has.
   */
  countOtherServers = true
  /** The Console ports as a 64 Ki-entry bitmap: a per-packet lookup without hashing. */
  private readonly consolePorts = new Uint8Array(65536)
  private readonly anyPort: boolean

  constructor(ports: Iterable<number>) {
    let any = true
    for (const port of ports) {
      this.consolePorts[port] = 1
      any = false
    }
    this.anyPort = any
  }

  /** Frame `frame` of the capture, data[start, end) of `linkType`. */
  triage(data: Uint8Array, start: number, end: number, linkType: number, frame: number): FrameHandling {
    // With every port a Console port, every TCP segment is decoded.
    if (this.anyPort) return DECODE
    const fast = this.fast
    const kind = prefilterFrame(linkType, data, start, end, fast)
    if (kind === FRAME_DECODE) return DECODE
    if (kind === FRAME_TCP && (this.consolePorts[fast.srcPort] === 1 || this.consolePorts[fast.dstPort] === 1)) return CONSOLE_TCP
    if (kind === FRAME_TCP && this.countOtherServers) {
      const clientSends = sentByClient(fast.flags, fast.srcPort, fast.dstPort)
      this.otherServers.countBytes(data, clientSends ? fast.dstAddr : fast.srcAddr, fast.v6, clientSends ? fast.dstPort : fast.srcPort, frame)
    }
    return PASSED_OVER
  }
}

/** Whether a segment goes client → server: a SYN does, a SYN-ACK does not, else it goes to the lower port. */
export function sentByClient(flags: number, srcPort: number, dstPort: number): boolean {
  const handshake = flags & (TCP_SYN | TCP_ACK)
  return handshake === TCP_SYN || (handshake !== (TCP_SYN | TCP_ACK) && dstPort < srcPort)
}
