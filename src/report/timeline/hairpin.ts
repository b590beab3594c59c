/**
 * A Microperimeter hairpin's share of the ladder (facts.hairpin, stream/hairpin.ts): a note at the
 * connection's first packet naming the legs every packet took (to the firewall, back, on) and
 * what the hairpins cost, then each packet the firewall kept, each packet encapsulated twice,
 * and where redirection stopped. The copies themselves are not drawn: they are one packet.
 */
import type {HairpinPacketRef} from '../../stream/types.js'
import {sideOf} from './format.js'
import type {LadderPart} from './events.js'

/** "SYN-ACK", "370 B", "ACK" — the packet, short. */
function packetName(ref: HairpinPacketRef): string {
  if (ref.flags === 'SA') return 'SYN-ACK'
  if (ref.flags === 'S') return 'SYN'
  if (ref.flags.includes('R')) return 'RST'
  if (ref.flags.includes('F')) return 'FIN'
  return ref.payloadLength > 0 ? `${ref.payloadLength.toLocaleString('en-US')} B` : 'ACK'
}

export const hairpinLadder: LadderPart = {
  events({facts, add}) {
    const hairpin = facts.hairpin
    if (hairpin === undefined) return
    const latency = hairpin.latencyMs
    const cost = latency ? `, +${latency.median} ms median, ${latency.max} ms max` : ''
    add(0, {frame: facts.tcp.firstFrame, ts: facts.tcp.startTs}, 'both', 'hairpin', `hairpin via firewall ${hairpin.firewall}`, {
      detail: `GENEVE (Microperimeter option): each packet to the firewall and back, ${hairpin.copies.toLocaleString('en-US')} copies counted once${cost}`,
    })
    const doubledFrames = new Set(hairpin.doubled.map((ref) => ref.frame))
    for (const ref of hairpin.lost) {
      if (doubledFrames.has(ref.frame)) continue
      const at = {frame: ref.toFirewallFrame ?? ref.frame, ts: ref.toFirewallTs ?? ref.ts}
      add(1, at, sideOf(ref.direction), 'hairpin-lost', 'to firewall, not back', {detail: `${packetName(ref)} of frame ${ref.frame}`})
    }
    for (const ref of hairpin.doubled) {
      const at = {frame: ref.toFirewallFrame ?? ref.frame, ts: ref.toFirewallTs ?? ref.ts}
      add(1, at, sideOf(ref.direction), 'hairpin-doubled', 'encapsulated twice', {detail: `${packetName(ref)} of frame ${ref.frame}, to the firewall again`})
    }
    const stopped = hairpin.stopped
    if (stopped !== undefined) {
      add(1, {frame: stopped.frame, ts: stopped.ts}, 'both', 'redirect-stopped', 'redirection stopped', {
        detail: `${stopped.packetsAfter.toLocaleString('en-US')} packets in clear only from here`,
      })
    }
  },
}
