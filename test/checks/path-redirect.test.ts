/**
 * path.redirect on hairpin facts (stream/hairpin.ts): which finding wins, the hints, and the skip
 * when the capture shows one leg of the tunnel only. The fixtures' verdicts are in
 * test/e2e/path-redirect.test.ts.
 */
import {describe, expect, it} from 'vitest'
import {checkPathRedirect} from '../../src/checks/path-redirect.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import type {HairpinFacts, HairpinPacketRef} from '../../src/stream/types.js'

function facts(hairpin: Partial<HairpinFacts>): ConnectionFacts {
  const full: HairpinFacts = {
    workload: '10.55.0.2',
    firewall: '10.55.2.2',
    derivedFrom: 'outer addresses',
    packets: 10,
    hairpinned: 10,
    notRedirected: 0,
    copies: 20,
    latencyMs: {median: 2.5, max: 9, count: 10},
    lost: [],
    inFlightAtEnd: 0,
    doubled: [],
    unsettled: 0,
    ...hairpin,
  }
  return {server: {ip: '10.55.1.2', port: 8084}, tcp: {firstFrame: 1}, hairpin: full} as unknown as ConnectionFacts
}

const ref = (frame: number, flags: string, direction: 'c2s' | 's2c', payloadLength = 0): HairpinPacketRef => ({frame, ts: 1, direction, flags, payloadLength, toFirewallFrame: frame + 1, toFirewallTs: 1.001})

describe('path.redirect', () => {
  it('passes with the hairpin latency', () => {
    const check = checkPathRedirect(facts({}))
    expect(check).toMatchObject({id: 'path.redirect', status: 'pass', confidence: 'observed'})
    expect(check.summary).toContain('each hairpin added 2.5 ms (median of 10 hairpins, max 9 ms)')
    expect(check.hint).toBeUndefined()
  })

  it('fails on a packet the firewall kept, naming a SYN-ACK and port 8084', () => {
    const check = checkPathRedirect(facts({lost: [ref(4, 'SA', 's2c'), ref(9, 'SA', 's2c')]}))
    expect(check.status).toBe('fail')
    expect(check.summary).toContain("2 packets sent to the firewall never came back (first: the Console's SYN-ACK, frame 4, to the firewall in frame 5)")
    expect(check.hint).toBe("the firewall dropped the Console's SYN-ACK: check its security policy for the Defender's traffic to port 8084")
    expect(check.evidence.frames).toEqual([4, 5])
  })

  it('says a doubled packet once, as double inspection, even though it never came back', () => {
    const doubled = ref(8, 'PA', 'c2s', 370)
    const check = checkPathRedirect(facts({lost: [doubled], doubled: [doubled]}))
    expect(check.status).toBe('fail')
    expect(check.summary).toContain("the Defender's 370-byte segment (frame 8) was sent to the firewall again, encapsulated twice, in frame 9 (double inspection)")
    expect(check.summary).not.toContain('never came back')
  })

  it('warns where redirection stopped; a failure outranks it', () => {
    const stopped = {frame: 40, ts: 2, lastRedirectedFrame: 30, packetsAfter: 12}
    const warn = checkPathRedirect(facts({stopped, notRedirected: 12}))
    expect(warn.status).toBe('warn')
    expect(warn.hint).toBe("redirection stopped: check the agent's telemetry to the firewall")
    const both = checkPathRedirect(facts({stopped, lost: [ref(4, 'A', 'c2s')]}))
    expect(both.status).toBe('fail')
    expect(both.hint).toBe("the firewall dropped the Defender's ACK: check its security policy for the Defender's traffic to port 8084; redirection stopped: check the agent's telemetry to the firewall")
  })

  it('skips when no packet was seen both going to the firewall and back (one leg of a tunnel)', () => {
    const check = checkPathRedirect(facts({copies: 0, hairpinned: 0}))
    expect(check.status).toBe('skip')
    expect(check.summary).toContain('the capture shows one leg of the tunnel, not the hairpin')
  })
})
