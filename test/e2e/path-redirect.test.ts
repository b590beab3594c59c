/**
 * The Microperimeter hairpin fixtures (fixtures/path/hairpin-*, made by their make.sh in dc5-*
 * namespaces with a userspace GENEVE redirector between real kernel TCP stacks) give the verdicts
 * their READMEs state, and their JSON reports validate against schema/report.schema.json.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {loadCaBundle} from '../../src/analysis/cert-policy.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {loadKeyStore} from '../../src/keys/store.js'
import type {CaptureReport, ConnectionReport} from '../../src/model/report.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import {renderHtml} from '../../src/report/html.js'
import {renderJson} from '../../src/report/json.js'
import {renderTable} from '../../src/report/table.js'
import {renderTimeline} from '../../src/report/timeline-text.js'
import {validateReport} from '../../src/report/schema.js'
import {FIXTURES} from '../helpers/paths.js'

const CA = join(FIXTURES, 'certs', 'console-ca.pem')

async function analyze(name: string, withKeys = true): Promise<CaptureReport> {
  const dir = join(FIXTURES, 'path', name)
  const keys = withKeys ? (await loadKeyStore([join(dir, 'keys.log')], {})).store : undefined
  return analyzeCapture(join(dir, 'capture.pcap'), {policy: buildPolicy({ports: []}), certificates: {ca: loadCaBundle(CA)}, keys})
}

function statuses(conn: ConnectionReport<ConnectionFacts>): Record<string, string> {
  return Object.fromEntries(conn.checks.map((check) => [check.id, check.status]))
}

const HANDSHAKE_TO_SESSION = ['tcp.syn', 'tcp.syn-ack', 'tcp.ack', 'tls.client-hello', 'tls.server-hello', 'tls.version', 'tls.certificate', 'tls.client-certificate', 'tls.finished', 'tls.alerts', 'ws.upgrade', 'ws.session']
const allPass = Object.fromEntries(HANDSHAKE_TO_SESSION.map((id) => [id, 'pass']))

function redirect(conn: ConnectionReport<ConnectionFacts>) {
  const check = conn.checks.find((c) => c.id === 'path.redirect')
  expect(check, 'path.redirect is reported').toBeDefined()
  return check!
}

describe('fixtures/path/hairpin-*', () => {
  it('hairpin-clean: one connection passing every check; each packet\'s three copies counted once', async () => {
    const report = await analyze('hairpin-clean')
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
    expect(report.connections).toHaveLength(1)
    const conn = report.connections[0]!
    expect(statuses(conn)).toEqual({...allPass, 'path.redirect': 'pass'})
    expect(conn.verdict).toBe('pass')
    const {tcp, hairpin, tunnels, replyTunnels} = conn.facts
    expect(tcp.synRetransmissions).toEqual([])
    expect(tcp.c2s.retransmissions + tcp.s2c.retransmissions).toBe(0)
    expect(hairpin!.hairpinned).toBe(hairpin!.packets)
    expect(hairpin!.copies).toBe(2 * hairpin!.packets)
    expect(report.source.frames).toBe(3 * hairpin!.packets)
    expect(tcp.c2s.packets + tcp.s2c.packets).toBe(hairpin!.packets)
    expect(hairpin!.lost).toEqual([])
    expect(hairpin!.doubled).toEqual([])
    expect(hairpin!.stopped).toBeUndefined()
    expect({workload: hairpin!.workload, firewall: hairpin!.firewall}).toEqual({workload: '10.55.0.2', firewall: '10.55.2.2'})
    // The firewall waits 2 ms per packet.
    expect(hairpin!.latencyMs!.median).toBeGreaterThanOrEqual(2)
    expect(hairpin!.latencyMs!.max).toBeGreaterThanOrEqual(hairpin!.latencyMs!.median)
    expect(tunnels![0]!.direction).toBe('workload-to-firewall')
    expect(replyTunnels![0]!.direction).toBe('workload-to-firewall')
    expect(tunnels![0]!.options).toEqual([{optionClass: 0xfff0, type: 0x20, critical: false, length: 8, data: '00000001', name: 'microperimeter'}])
    expect(redirect(conn).summary).toMatch(/^redirected: \d+ packets went through the firewall 10\.55\.2\.2 .* and came back; their \d+ copies are counted once; each hairpin added [\d.]+ ms \(median of \d+ hairpins, max [\d.]+ ms\)$/)
  })

  it('hairpin-synack-dropped: path.redirect fails naming the SYN-ACK the firewall kept', async () => {
    const report = await analyze('hairpin-synack-dropped', false)
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
    expect(report.connections).toHaveLength(1)
    const conn = report.connections[0]!
    const status = statuses(conn)
    expect([status['tcp.syn'], status['tcp.syn-ack'], status['tcp.ack'], status['path.redirect']]).toEqual(['pass', 'pass', 'fail', 'fail'])
    expect(conn.facts.tcp.rst).toEqual([])
    const hairpin = conn.facts.hairpin!
    expect(hairpin.lost.length).toBeGreaterThanOrEqual(2)
    expect(hairpin.lost.every((ref) => ref.flags === 'SA' && ref.direction === 's2c')).toBe(true)
    const check = redirect(conn)
    expect(check.confidence).toBe('observed')
    expect(check.hint).toBe("the firewall dropped the Console's SYN-ACK: check its security policy for the Defender's traffic to port 8084")
    expect(check.evidence.frames.slice(0, 2)).toEqual([hairpin.lost[0]!.frame, hairpin.lost[0]!.toFirewallFrame])
  })

  it('hairpin-redirect-stops: path.redirect warns where redirection stopped; the session passes', async () => {
    const report = await analyze('hairpin-redirect-stops')
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
    const conn = report.connections[0]!
    expect(statuses(conn)).toEqual({...allPass, 'path.redirect': 'warn'})
    const hairpin = conn.facts.hairpin!
    // The agent stops after 12 packets.
    expect(hairpin.hairpinned).toBe(12)
    expect(hairpin.stopped!.frame).toBeGreaterThan(hairpin.stopped!.lastRedirectedFrame)
    expect(hairpin.stopped!.packetsAfter).toBe(hairpin.notRedirected)
    expect(hairpin.lost).toEqual([])
    expect(redirect(conn).hint).toBe("redirection stopped: check the agent's telemetry to the firewall")
  })

  it('hairpin-double-inspection: path.redirect fails on the ClientHello encapsulated twice', async () => {
    const report = await analyze('hairpin-double-inspection')
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
    const conn = report.connections[0]!
    expect(statuses(conn)).toEqual({...allPass, 'path.redirect': 'fail'})
    const hairpin = conn.facts.hairpin!
    expect(hairpin.doubled).toHaveLength(1)
    expect(hairpin.doubled[0]).toMatchObject({direction: 'c2s', flags: 'PA', payloadLength: 370})
    // The Defender's TCP retransmitted the ClientHello once; the copies are not retransmissions.
    expect(conn.facts.tcp.c2s.retransmissions).toBe(1)
    const check = redirect(conn)
    expect(check.summary).toContain('encapsulated twice')
    expect(check.summary).not.toContain('never came back')
    expect(check.hint).toMatch(/^a packet re-entered the redirection after its inspection: the firewall blackholes traffic it already inspected/)
  })

  it('the table, the ladder and the HTML show the hairpin legs and the path.redirect verdict', async () => {
    const dropped = await analyze('hairpin-synack-dropped', false)
    const table = renderTable(dropped, {color: false, width: 100})
    expect(table).toMatch(/hairpin: workload 10\.55\.0\.2 -> firewall 10\.55\.2\.2 -> workload, then on; \d+ packets hairpinned/)
    expect(table).toMatch(/\| path\.redirect +\| FAIL/)
    const ladder = renderTimeline(dropped.connections[0]!, {color: false, width: 100})
    expect(ladder).toContain('hairpin via firewall 10.55.2.2')
    const lostLine = ladder.split('\n').find((line) => line.includes('to firewall, not back'))
    expect(lostLine).toMatch(/ X \|<-+ to firewall, not back {2}SYN-ACK of frame \d+ --\| +\d+$/)
    expect(ladder).toContain("FAIL path.redirect: the firewall dropped the Console's")
    const stops = await analyze('hairpin-redirect-stops')
    expect(renderTimeline(stops.connections[0]!, {color: false, width: 100})).toMatch(/ ! \| +redirection stopped {2}\d+ packets in clear only from here/)
    const html = renderHtml(await analyze('hairpin-double-inspection'))
    expect(html).toMatch(/<p class="meta hairpin">hairpin: workload 10\.55\.0\.2 → firewall 10\.55\.2\.2 → workload/)
    expect(html).toMatch(/<g class="event kind-hairpin-doubled from-client fail"/)
    expect(html).toContain('<tr class="fail" data-check="path.redirect">')
  })
})
