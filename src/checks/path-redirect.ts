/**
 * path.redirect — only on a connection whose packets were redirected through a Microperimeter
 * firewall (PAN Traffic Redirector: GENEVE, RFC 8926, option type 0x20): did every packet go to
 * the firewall and come back (the hairpin), and what did it cost? Fails when the firewall kept
 * packets (its security policy dropped them) or a packet was encapsulated twice (double
 * inspection: the firewall blackholes traffic it already inspected); warns when redirection
 * stopped part-way (the agent lost its telemetry to the firewall and lets traffic pass
 * uninspected). The copies of each packet are matched in stream/hairpin.ts.
 */
import {countOf} from '../lists.js'
import type {CheckResult, CheckStatus} from '../model/checks.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {HairpinFacts, HairpinPacketRef} from '../stream/types.js'

/** Words for one inner packet: "the Console's SYN-ACK", "the Defender's 370-byte segment". */
function describePacket(ref: HairpinPacketRef): string {
  const who = ref.direction === 'c2s' ? "the Defender's" : "the Console's"
  if (ref.flags === 'SA') return `${who} SYN-ACK`
  if (ref.flags === 'S') return `${who} SYN`
  if (ref.flags.includes('R')) return `${who} RST`
  if (ref.flags.includes('F')) return `${who} FIN`
  if (ref.payloadLength > 0) return `${who} ${ref.payloadLength}-byte segment`
  return `${who} ACK`
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`
}

export function checkPathRedirect(facts: ConnectionFacts): CheckResult {
  const hairpin = facts.hairpin as HairpinFacts
  const port = facts.server.port
  const lostCount = countOf(hairpin, 'lost', hairpin.lost)
  const doubledCount = countOf(hairpin, 'doubled', hairpin.doubled)
  const firstLost = hairpin.lost[0]
  const firstDoubled = hairpin.doubled[0]
  const latency = hairpin.latencyMs
  const through = `through the firewall ${hairpin.firewall} (GENEVE, Microperimeter option; workload ${hairpin.workload})`
  const latencyText = latency ? `; each hairpin added ${latency.median} ms (median of ${plural(latency.count, 'hairpin')}, max ${latency.max} ms)` : ''
  const findings: string[] = []
  const hints: string[] = []
  let status: CheckStatus = 'pass'
  const frames: number[] = []
  if (firstDoubled !== undefined) {
    status = 'fail'
    frames.push(firstDoubled.frame, firstDoubled.toFirewallFrame ?? firstDoubled.frame)
    findings.push(
      `${describePacket(firstDoubled)} (frame ${firstDoubled.frame}) was sent to the firewall again, encapsulated twice, in frame ${firstDoubled.toFirewallFrame}` +
        (doubledCount > 1 ? ` (${plural(doubledCount, 'packet')} in all)` : '') +
        ' (double inspection)',
    )
    hints.push('a packet re-entered the redirection after its inspection: the firewall blackholes traffic it already inspected; make sure the firewall\'s returned traffic is not redirected again (the agent\'s rules, or traffic re-entering the firewall on another interface)')
  }
  // A doubled packet that never came back is said once, as double inspection.
  const isDoubled = (ref: HairpinPacketRef): boolean => hairpin.doubled.some((doubled) => doubled.frame === ref.frame)
  const lostNotDoubled = lostCount - hairpin.lost.filter(isDoubled).length
  if (lostNotDoubled > 0) {
    status = 'fail'
    const first = hairpin.lost.find((ref) => !isDoubled(ref)) ?? firstLost!
    frames.push(first.frame, first.toFirewallFrame ?? first.frame)
    findings.push(`${plural(lostNotDoubled, 'packet')} sent to the firewall never came back (first: ${describePacket(first)}, frame ${first.frame}, to the firewall in frame ${first.toFirewallFrame})`)
    hints.push(
      first.flags === 'SA' && first.direction === 's2c'
        ? `the firewall dropped the Console's SYN-ACK: check its security policy for the Defender's traffic to port ${port}`
        : `the firewall dropped ${describePacket(first)}: check its security policy for the Defender's traffic to port ${port}`,
    )
  }
  const stopped = hairpin.stopped
  if (stopped !== undefined) {
    if (status === 'pass') status = 'warn'
    frames.push(stopped.lastRedirectedFrame, stopped.frame)
    findings.push(
      `redirection stopped: the last packet sent to the firewall is in frame ${stopped.lastRedirectedFrame}; from frame ${stopped.frame} on, ` +
        `${plural(stopped.packetsAfter, 'packet')} travelled in clear only, uninspected`,
    )
    hints.push("redirection stopped: check the agent's telemetry to the firewall")
  }
  if (hairpin.copies === 0) {
    // One leg of the tunnel only (a capture on the firewall's side, or at a tunnel endpoint): no
    // packet was seen going to the firewall and coming back, so nothing here is a hairpin verdict.
    return {
      id: 'path.redirect',
      status: 'skip',
      confidence: 'observed',
      summary: `redirected through ${hairpin.firewall} (GENEVE, Microperimeter option), but no packet was seen both going to the firewall and coming back: the capture shows one leg of the tunnel, not the hairpin`,
      evidence: {frames: [facts.tcp.firstFrame], values: {workload: hairpin.workload, firewall: hairpin.firewall, packets: hairpin.packets, copies: 0}},
      hint: "capture on the workload's interface to see the hairpin (each packet to the firewall, back, and in clear)",
    }
  }
  const values: Record<string, unknown> = {
    workload: hairpin.workload,
    firewall: hairpin.firewall,
    packets: hairpin.packets,
    hairpinned: hairpin.hairpinned,
    notRedirected: hairpin.notRedirected,
    copies: hairpin.copies,
    lost: lostCount,
    doubled: doubledCount,
  }
  if (latency) {
    values.hairpinMedianMs = latency.median
    values.hairpinMaxMs = latency.max
  }
  if (hairpin.inFlightAtEnd > 0) values.inFlightAtEnd = hairpin.inFlightAtEnd
  let summary: string
  if (findings.length === 0) {
    summary =
      `redirected: ${plural(hairpin.hairpinned, 'packet')} went ${through} and came back` +
      (hairpin.notRedirected > 0 ? ` (${plural(hairpin.notRedirected, 'more')} in clear only)` : '') +
      `; their ${plural(hairpin.copies, 'copy', 'copies')} are counted once${latencyText}`
  } else {
    summary = `redirected ${through}: ${findings.join('; ')}${latencyText}`
  }
  const check: CheckResult = {id: 'path.redirect', status, confidence: 'observed', summary, evidence: {frames: frames.length > 0 ? frames : [facts.tcp.firstFrame], values}}
  if (hints.length > 0) check.hint = hints.join('; ')
  return check
}
