/**
 * Microperimeter hairpin copy matching (stream/hairpin.ts) through the ConnectionTracker, on
 * constructed packets: the copies of one inner packet (to the firewall, back, in clear) are one
 * packet; a retransmission is not a copy; what the firewall kept, where redirection stopped,
 * a packet encapsulated twice. The real captures are in test/e2e/path-redirect.test.ts.
 */
import {describe, expect, it} from 'vitest'
import {LIST_CAPS} from '../../src/lists.js'
import {TCP_ACK, TCP_PSH, TCP_SYN, type Packet, type TunnelInfo} from '../../src/packet/types.js'
import {ConnectionTracker} from '../../src/stream/tracker.js'
import type {TrackedConnection} from '../../src/stream/types.js'
import {segment} from './segments.js'

const WORKLOAD = '10.55.0.2'
const FIREWALL = '10.55.2.2'
const CONSOLE = '10.55.1.2'
const MICROPERIMETER = {optionClass: 0xfff0, type: 0x20, critical: false, length: 8, data: '00000001', name: 'microperimeter' as const}

function tunnel(outerSrc: string, outerDst: string): TunnelInfo {
  return {type: 'geneve', vni: 0x55, outerSrc, outerDst, options: [{...MICROPERIMETER}]}
}
const TO_FIREWALL = [tunnel(WORKLOAD, FIREWALL)]
const FROM_FIREWALL = [tunnel(FIREWALL, WORKLOAD)]
const TWICE = [tunnel(WORKLOAD, FIREWALL), tunnel(FIREWALL, WORKLOAD)]

type Leg = TunnelInfo[] | undefined
interface Spec {
  frame: number
  ms: number
  fromClient: boolean
  seq: number
  ack: number
  flags: number
  len?: number
  tsVal: number
  leg: Leg
}

function packet(spec: Spec): Packet {
  const [src, sport, dst, dport] = spec.fromClient ? [WORKLOAD, 40000, CONSOLE, 8084] : [CONSOLE, 8084, WORKLOAD, 40000]
  const p = segment({frame: spec.frame, ts: 1000 + spec.ms / 1000, src, sport, dst, dport, seq: spec.seq, ack: spec.ack, flags: spec.flags, payload: new Uint8Array(spec.len ?? 0), options: {tsVal: spec.tsVal}})
  if (spec.leg !== undefined) p.tunnels = spec.leg.map((t) => ({...t, options: t.options.map((o) => ({...o}))}))
  return p
}

function run(specs: Spec[]): TrackedConnection[] {
  const tracker = new ConnectionTracker({isServerPort: (port) => port === 8084})
  for (const spec of specs) tracker.push(packet(spec))
  return tracker.finish()
}

/** The workload's packet: to the firewall, back, then in clear (frames f, f+1, f+2). */
function outbound(frame: number, ms: number, seq: number, ack: number, flags: number, tsVal: number, len = 0, hairpinMs = 2): Spec[] {
  const base = {fromClient: true, seq, ack, flags, tsVal, len}
  return [
    {...base, frame, ms, leg: TO_FIREWALL},
    {...base, frame: frame + 1, ms: ms + hairpinMs, leg: FROM_FIREWALL},
    {...base, frame: frame + 2, ms: ms + hairpinMs + 0.1, leg: undefined},
  ]
}
/** The Console's packet: in clear, to the firewall, back (frames f, f+1, f+2). */
function inbound(frame: number, ms: number, seq: number, ack: number, flags: number, tsVal: number, len = 0, hairpinMs = 2): Spec[] {
  const base = {fromClient: false, seq, ack, flags, tsVal, len}
  return [
    {...base, frame, ms, leg: undefined},
    {...base, frame: frame + 1, ms: ms + 0.1, leg: TO_FIREWALL},
    {...base, frame: frame + 2, ms: ms + 0.1 + hairpinMs, leg: FROM_FIREWALL},
  ]
}

const HANDSHAKE = [
  ...outbound(1, 0, 100, 0, TCP_SYN, 1),
  ...inbound(4, 3, 500, 101, TCP_SYN | TCP_ACK, 9),
  ...outbound(7, 6, 101, 501, TCP_ACK, 2),
]

describe('hairpin copies', () => {
  it('counts the three copies of each packet once: one connection, no retransmission, the latency of each hairpin', () => {
    const conns = run([...HANDSHAKE, ...outbound(10, 9, 101, 501, TCP_ACK | TCP_PSH, 3, 370, 4), ...inbound(13, 14, 501, 471, TCP_ACK | TCP_PSH, 10, 1348, 6)])
    expect(conns).toHaveLength(1)
    const [conn] = conns
    expect(conn!.tcp.synRetransmissions).toEqual([])
    expect(conn!.tcp.c2s.retransmissions).toBe(0)
    expect(conn!.tcp.s2c.retransmissions).toBe(0)
    expect(conn!.tcp.c2s.packets).toBe(3)
    expect(conn!.tcp.s2c.packets).toBe(2)
    expect(conn!.tcp.c2s.deliveredBytes).toBe(370)
    const hairpin = conn!.hairpin!
    expect({packets: hairpin.packets, hairpinned: hairpin.hairpinned, copies: hairpin.copies, lost: hairpin.lost, doubled: hairpin.doubled, stopped: hairpin.stopped}).toEqual({
      packets: 5,
      hairpinned: 5,
      copies: 10,
      lost: [],
      doubled: [],
      stopped: undefined,
    })
    expect(hairpin.workload).toBe(WORKLOAD)
    expect(hairpin.firewall).toBe(FIREWALL)
    // Hairpins of 2, 2, 2, 4 and 6 ms.
    expect(hairpin.latencyMs).toEqual({median: 2, max: 6, count: 5})
  })

  it('gives the reply tunnel its direction from the hairpin: the SYN-ACK\'s first tunnelled copy goes to the firewall', () => {
    const [conn] = run(HANDSHAKE)
    expect(conn!.tunnels?.[0]?.direction).toBe('workload-to-firewall')
    expect(conn!.replyTunnels?.[0]?.direction).toBe('workload-to-firewall')
    expect(conn!.replyTunnels?.[0]?.outerSrc).toBe(WORKLOAD)
  })

  it('keeps a real retransmission (a new TSval) as a retransmission, its own copies matched', () => {
    const conns = run([...HANDSHAKE, ...outbound(10, 9, 101, 501, TCP_ACK | TCP_PSH, 3, 100), ...outbound(13, 300, 101, 501, TCP_ACK | TCP_PSH, 4, 100)])
    expect(conns[0]!.tcp.c2s.retransmissions).toBe(1)
    expect(conns[0]!.hairpin!.packets).toBe(5)
    expect(conns[0]!.hairpin!.copies).toBe(10)
  })

  it('without timestamps, the same segment in clear twice is a retransmission, not a copy', () => {
    const noTs = (specs: Spec[]) => specs.map((spec) => ({...spec, tsVal: undefined as unknown as number}))
    const conns = run([...HANDSHAKE, ...noTs(outbound(10, 9, 101, 501, TCP_ACK | TCP_PSH, 0, 100)), ...noTs(outbound(13, 300, 101, 501, TCP_ACK | TCP_PSH, 0, 100))])
    expect(conns[0]!.tcp.c2s.retransmissions).toBe(1)
    expect(conns[0]!.hairpin!.lost).toEqual([])
  })

  it('names the SYN-ACK the firewall never returned, while later packets went on', () => {
    const dropped = (frame: number, ms: number, tsVal: number): Spec[] => inbound(frame, ms, 500, 101, TCP_SYN | TCP_ACK, tsVal).slice(0, 2)
    const conns = run([...outbound(1, 0, 100, 0, TCP_SYN, 1), ...dropped(4, 3, 9), ...outbound(6, 1000, 100, 0, TCP_SYN, 2), ...dropped(9, 1003, 10)])
    const hairpin = conns[0]!.hairpin!
    expect(hairpin.lost).toEqual([{frame: 4, ts: 1000.003, direction: 's2c', flags: 'SA', payloadLength: 0, toFirewallFrame: 5, toFirewallTs: 1000.0031}])
    // The last one was in the firewall when the connection's last packet was captured.
    expect(hairpin.inFlightAtEnd).toBe(1)
    expect(hairpin.hairpinned).toBe(2)
  })

  it('says where redirection stopped: later packets in clear only', () => {
    const clear = (spec: Spec[]): Spec[] => [{...spec[0]!, leg: undefined}]
    const conns = run([...HANDSHAKE, ...clear(outbound(10, 20, 101, 501, TCP_ACK | TCP_PSH, 3, 100)), ...clear(inbound(11, 25, 501, 201, TCP_ACK, 11))])
    const hairpin = conns[0]!.hairpin!
    // The last frame sent to the firewall is the handshake ACK's (frame 7).
    expect(hairpin.stopped).toEqual({frame: 10, ts: 1000.02, lastRedirectedFrame: 7, packetsAfter: 2})
    expect(hairpin.notRedirected).toBe(2)
    expect(conns[0]!.tcp.c2s.retransmissions).toBe(0)
  })

  it('does not say redirection stopped when a packet in clear is followed by redirected ones', () => {
    const clear = (spec: Spec[]): Spec[] => [{...spec[0]!, leg: undefined}]
    const conns = run([...HANDSHAKE, ...clear(outbound(10, 20, 101, 501, TCP_ACK | TCP_PSH, 3, 100)), ...outbound(11, 25, 201, 501, TCP_ACK | TCP_PSH, 4, 100)])
    expect(conns[0]!.hairpin!.stopped).toBeUndefined()
    expect(conns[0]!.hairpin!.notRedirected).toBe(1)
  })

  it('finds a packet encapsulated twice (nested GENEVE) that never came back', () => {
    const hello = outbound(10, 9, 101, 501, TCP_ACK | TCP_PSH, 3, 370)
    const doubled: Spec = {...hello[0]!, frame: 12, ms: 12, leg: TWICE}
    const conns = run([...HANDSHAKE, hello[0]!, hello[1]!, doubled, ...outbound(13, 300, 101, 501, TCP_ACK | TCP_PSH, 4, 370)])
    const hairpin = conns[0]!.hairpin!
    expect(hairpin.doubled).toEqual([{frame: 10, ts: 1000.009, direction: 'c2s', flags: 'PA', payloadLength: 370, toFirewallFrame: 12, toFirewallTs: 1000.012}])
    expect(hairpin.lost.map((ref) => ref.frame)).toEqual([10])
    expect(conns[0]!.tcp.c2s.retransmissions).toBe(1)
  })

  it('caps the packets awaiting copies and the lost list (LIST_CAPS.hairpinPending, hairpinLost)', () => {
    const specs: Spec[] = [...HANDSHAKE]
    // 2,000 of the Console's segments sent to the firewall, none back, within one second.
    for (let i = 0; i < 2000; i++) specs.push(...inbound(10 + 2 * i, 10 + i * 0.1, 501 + i * 10, 101, TCP_ACK | TCP_PSH, 100 + i, 10).slice(0, 2))
    specs.push(...outbound(5000, 400, 101, 501, TCP_ACK, 5))
    const hairpin = run(specs)[0]!.hairpin!
    expect(hairpin.lost).toHaveLength(64)
    expect(hairpin.truncated?.lost).toBe(2000 - 64)
    // The 2,000 and the last ACK passed through the LIST_CAPS.hairpinPending places.
    expect(hairpin.unsettled).toBe(2001 - LIST_CAPS.hairpinPending)
  })

  it("starts matching at the Defender's first redirected packet, not at a Console packet seen in a tunnel first", () => {
    // One leg of a tunnel (a capture at its endpoint): the Console's packets come back from the
    // firewall, the Defender's go to it, no packet is seen twice.
    const conns = run([
      {frame: 1, ms: 0, fromClient: false, seq: 500, ack: 101, flags: TCP_SYN | TCP_ACK, tsVal: 9, leg: FROM_FIREWALL},
      {frame: 2, ms: 1, fromClient: true, seq: 101, ack: 501, flags: TCP_ACK, tsVal: 2, leg: TO_FIREWALL},
      {frame: 3, ms: 2, fromClient: false, seq: 501, ack: 101, flags: TCP_ACK | TCP_PSH, len: 10, tsVal: 10, leg: FROM_FIREWALL},
    ])
    const hairpin = conns[0]!.hairpin!
    expect(hairpin.workload).toBe(WORKLOAD)
    expect(hairpin.copies).toBe(0)
    // Frame 2 never came back, but nothing here is a hairpin: it is not called lost.
    expect(hairpin.lost).toEqual([])
  })

  it('leaves a connection without the Microperimeter option alone', () => {
    const plain = HANDSHAKE.filter((spec) => spec.leg === undefined)
    const [conn] = run(plain)
    expect(conn!.hairpin).toBeUndefined()
  })
})
