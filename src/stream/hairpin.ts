/**
 * Microperimeter hairpins. PAN Traffic Redirector, on a workload, sends each of the workload's
 * packets to a Prisma AIRS firewall encapsulated in GENEVE (RFC 8926) with option type 0x20; the
 * firewall inspects it and sends it back encapsulated; the agent then delivers it (the Console's
 * packets) or sends it on in clear (the workload's). A capture on the workload therefore holds
 * each inner packet up to three times: to the firewall, back from it, and in clear (in that order
 * for the workload's packets; clear first for the Console's). This matcher recognises those
 * copies as one packet, so that only the first reaches the TCP facts (the others are neither
 * retransmissions nor another connection), and measures the hairpin: its latency, the packets
 * the firewall never returned, where redirection stopped, and packets encapsulated twice.
 *
 * A copy is the same inner TCP segment: same direction, sequence and acknowledgment numbers,
 * flags, payload length, window and TCP timestamp (RFC 7323 §3: a retransmission carries a new
 * TSval, so with timestamps a retransmission is never taken for a copy). Without timestamps, a
 * segment seen again at a leg it already took (in clear twice, to the firewall twice before any
 * return) is a retransmission, and starts a new packet.
 */
import {LIST_CAPS, pushCapped} from '../lists.js'
import {TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpHeader, type TunnelInfo} from '../packet/types.js'
import type {Direction, HairpinFacts, HairpinPacketRef} from './types.js'

/**
 * How long (capture time) a packet's missing copies are awaited before it is settled: a firewall
 * answers within milliseconds, so a copy not back after this never will (it was dropped).
 */
export const HAIRPIN_SETTLE_SECONDS = 5

/** Which copy of an inner packet a frame is. */
export type HairpinLeg = 'to-firewall' | 'from-firewall' | 'clear'

/** Whether a packet's tunnels carry the Microperimeter option (the redirection this module is about). */
export function isRedirected(tunnels: readonly TunnelInfo[] | undefined): boolean {
  if (tunnels === undefined) return false
  for (const tunnel of tunnels) if (tunnel.options.some((option) => option.name === 'microperimeter')) return true
  return false
}

/** The Microperimeter tunnels of a packet (more than one: encapsulated twice). */
function redirections(tunnels: readonly TunnelInfo[] | undefined): TunnelInfo[] {
  return tunnels === undefined ? [] : tunnels.filter((tunnel) => tunnel.options.some((option) => option.name === 'microperimeter'))
}

/** One inner packet awaiting its copies. */
interface PendingPacket {
  key: string
  ref: HairpinPacketRef
  firstTs: number
  /** Copies sent to the firewall, and returned from it. */
  sent: number
  returned: number
  lastSentFrame: number
  lastSentTs: number
  clear: boolean
}

export class HairpinMatcher {
  readonly facts: HairpinFacts
  /** By key, oldest first (a Map keeps insertion order). */
  private readonly pending = new Map<string, PendingPacket>()
  private readonly latencies: number[] = []
  private latencyMax = 0
  private latencyCount = 0
  /** The first not-redirected packet after the last redirected one (frame order), and how many followed. */
  private lastRedirectedFrame = 0
  private stoppedAt: {frame: number; ts: number; count: number} | undefined = undefined

  constructor(firstRedirected: TunnelInfo) {
    this.facts = {
      workload: firstRedirected.outerSrc,
      firewall: firstRedirected.outerDst,
      derivedFrom:
        `outer addresses: the Defender's first redirected packet went ${firstRedirected.outerSrc} -> ${firstRedirected.outerDst}, ` +
        `so ${firstRedirected.outerSrc} is the workload (a hairpin sends every packet to the firewall before it comes back)`,
      packets: 0,
      hairpinned: 0,
      notRedirected: 0,
      copies: 0,
      lost: [],
      inFlightAtEnd: 0,
      doubled: [],
      unsettled: 0,
    }
  }

  /** Which leg a frame with these tunnels is, seen from this connection's workload. */
  legOf(tunnels: readonly TunnelInfo[] | undefined): HairpinLeg {
    const outer = redirections(tunnels)[0]
    if (outer === undefined) return 'clear'
    return outer.outerSrc === this.facts.workload ? 'to-firewall' : 'from-firewall'
  }

  /**
   * One frame of the connection. True when it is a copy of an inner packet already counted (the
   * tracker then leaves it out of the TCP facts); false when it is the packet's first appearance.
   */
  observe(tcp: TcpHeader, fromClient: boolean, tunnels: readonly TunnelInfo[] | undefined, frame: number, ts: number): boolean {
    this.settleOlderThan(ts - HAIRPIN_SETTLE_SECONDS, ts)
    const nested = redirections(tunnels).length > 1
    const leg = this.legOf(tunnels)
    const key = copyKey(tcp, fromClient)
    const known = this.pending.get(key)
    if (known !== undefined && this.isCopy(known, leg, nested, frame, ts)) {
      this.facts.copies++
      if (known.returned >= known.sent && known.sent > 0 && known.clear) this.settle(known, ts, false)
      return true
    }
    // A new inner packet (or the same bytes again at a leg they already took: a retransmission).
    if (known !== undefined) this.settle(known, ts, false)
    const direction: Direction = fromClient ? 'c2s' : 's2c'
    const entry: PendingPacket = {
      key,
      ref: {frame, ts, direction, flags: flagLetters(tcp.flags), payloadLength: tcp.payloadLength},
      firstTs: ts,
      sent: 0,
      returned: 0,
      lastSentFrame: 0,
      lastSentTs: 0,
      clear: false,
    }
    this.facts.packets++
    if (leg === 'to-firewall') this.sentToFirewall(entry, nested, frame, ts)
    else if (leg === 'clear') entry.clear = true
    // A copy back from the firewall first: the capture began after it was sent; counted as hairpinned.
    else entry.sent = entry.returned = 1
    if (leg === 'from-firewall') this.redirectedAt(frame)
    this.pending.set(key, entry)
    if (this.pending.size > LIST_CAPS.hairpinPending) {
      const oldest = this.pending.values().next().value!
      this.facts.unsettled++
      this.settle(oldest, ts, false)
    }
    return false
  }

  /** Nothing awaited that could still come: the connection may be let go of. */
  settled(): boolean {
    for (const entry of this.pending.values()) {
      if (entry.sent > entry.returned) return false
      // The workload's packet, back from the firewall, is sent on in clear next.
      if (entry.ref.direction === 'c2s' && entry.sent > 0 && !entry.clear) return false
    }
    return true
  }

  /**
   * The facts, once the connection is over. `endTs` is the connection's last packet: a packet
   * still in the firewall then was sent too recently to call lost unless the connection went on
   * for a while after it (the firewall's usual answer is milliseconds).
   */
  finish(endTs: number): HairpinFacts {
    for (const entry of [...this.pending.values()]) this.settle(entry, endTs, true)
    const facts = this.facts
    if (this.latencyCount > 0) {
      const sorted = [...this.latencies].sort((a, b) => a - b)
      const middle = sorted.length >> 1
      const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
      facts.latencyMs = {median: round3(median), max: round3(this.latencyMax), count: this.latencyCount}
    }
    if (this.stoppedAt !== undefined) {
      facts.stopped = {frame: this.stoppedAt.frame, ts: this.stoppedAt.ts, lastRedirectedFrame: this.lastRedirectedFrame, packetsAfter: this.stoppedAt.count}
    }
    return facts
  }

  private isCopy(entry: PendingPacket, leg: HairpinLeg, nested: boolean, frame: number, ts: number): boolean {
    if (leg === 'clear') {
      if (entry.clear) return false
      entry.clear = true
      return true
    }
    if (leg === 'from-firewall') {
      if (entry.returned < entry.sent) {
        this.returnedFromFirewall(entry, ts)
        return true
      }
      // Back more often than sent: a copy whose sending the capture missed.
      return entry.sent > 0
    }
    // To the firewall: the first time, or again once it came back (it re-entered the redirection).
    if (entry.sent === 0 || entry.returned === entry.sent) {
      const again = entry.sent > 0
      this.sentToFirewall(entry, nested || again, frame, ts)
      return true
    }
    // Sent again before it came back: without timestamps, that is a retransmission.
    return false
  }

  private sentToFirewall(entry: PendingPacket, doubled: boolean, frame: number, ts: number): void {
    entry.sent++
    this.redirectedAt(frame)
    entry.lastSentFrame = frame
    entry.lastSentTs = ts
    if (doubled) pushCapped(this.facts, 'doubled', this.facts.doubled, LIST_CAPS.hairpinDoubled, {...entry.ref, toFirewallFrame: frame, toFirewallTs: ts})
  }

  private returnedFromFirewall(entry: PendingPacket, ts: number): void {
    entry.returned++
    const ms = (ts - entry.lastSentTs) * 1000
    this.latencyCount++
    if (ms > this.latencyMax) this.latencyMax = ms
    if (this.latencies.length < LIST_CAPS.hairpinLatencies) this.latencies.push(ms)
  }

  /** A frame sent to the firewall (or back): redirection had not stopped by then. */
  private redirectedAt(frame: number): void {
    if (frame > this.lastRedirectedFrame) this.lastRedirectedFrame = frame
    if (this.stoppedAt !== undefined && this.stoppedAt.frame < frame) this.stoppedAt = undefined
  }

  /** Settles the packets whose copies have been awaited since before `cutoff`. */
  private settleOlderThan(cutoff: number, now: number): void {
    for (const entry of this.pending.values()) {
      if (entry.firstTs >= cutoff) return
      this.settle(entry, now, false)
    }
  }

  /** The packet's copies are all in (or will not come): it is counted and forgotten. */
  private settle(entry: PendingPacket, now: number, atEnd: boolean): void {
    this.pending.delete(entry.key)
    const facts = this.facts
    if (entry.sent === 0) {
      facts.notRedirected++
      if (entry.ref.frame > this.lastRedirectedFrame) {
        if (this.stoppedAt === undefined) this.stoppedAt = {frame: entry.ref.frame, ts: entry.firstTs, count: 0}
        else if (entry.ref.frame < this.stoppedAt.frame) this.stoppedAt = {...this.stoppedAt, frame: entry.ref.frame, ts: entry.firstTs}
        this.stoppedAt.count++
      }
      return
    }
    if (entry.returned > 0) facts.hairpinned++
    // Without a single copy matched, the capture shows one leg of a tunnel: nothing is known lost.
    if (entry.returned >= entry.sent || facts.copies === 0) return
    if (atEnd && now <= entry.lastSentTs) {
      facts.inFlightAtEnd++
      return
    }
    pushCapped(facts, 'lost', facts.lost, LIST_CAPS.hairpinLost, {...entry.ref, toFirewallFrame: entry.lastSentFrame, toFirewallTs: entry.lastSentTs})
  }
}

/** The fields that are the same in every copy of one inner segment and differ between segments. */
function copyKey(tcp: TcpHeader, fromClient: boolean): string {
  const options = tcp.options
  return `${fromClient ? 'c' : 's'}${tcp.seq}:${tcp.ack}:${tcp.flags}:${tcp.payloadLength}:${tcp.window}:${options.tsVal ?? ''}`
}

/** tshark's letters for the flags a verdict names ("S", "SA", "A", "PA", "FA", "R"). */
function flagLetters(flags: number): string {
  let letters = ''
  if ((flags & TCP_SYN) !== 0) letters += 'S'
  if ((flags & TCP_FIN) !== 0) letters += 'F'
  if ((flags & TCP_RST) !== 0) letters += 'R'
  if ((flags & TCP_PSH) !== 0) letters += 'P'
  if ((flags & TCP_ACK) !== 0) letters += 'A'
  return letters
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
