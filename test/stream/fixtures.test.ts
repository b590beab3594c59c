/**
 * The tracker on the project's own fixture captures (fixtures/tcp/*: real tcpdump captures of
 * refused, filtered, reused, mid-stream and normal TLS connections). Expected values come from
 * each fixture's expected.json `facts`, which its make.sh writes from tshark (tcp.stream,
 * tcp.flags, tcp.len, tcp.analysis.initial_rtt), so a regenerated fixture carries its own truth.
 *
 * Not compared: handshakeRttMs when the handshake did not complete (tshark's initial_rtt is also
 * set by the RST/ACK refusing a SYN; our handshake RTT needs the client's ACK of a SYN-ACK).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ConnectionTracker} from '../../src/stream/tracker.js'
import type {TrackedConnection} from '../../src/stream/types.js'
import {fixtureDirs} from '../helpers/paths.js'
import {readFrames, replay} from './real-packets.js'

interface FixtureFacts {
  firstFrame: number
  lastFrame: number
  sawOpening: boolean
  synFrame: number | null
  synRetransmissionFrames: number[]
  synAckFrame: number | null
  ackFrame: number | null
  handshakeRttMs: number | null
  rst: Array<{frame: number; from: string}>
  fin: Array<{frame: number; from: string}>
  c2sPayloadBytes: number
  s2cPayloadBytes: number
}

interface FixtureConnection {
  client: string
  server: string
  clientBy?: string
  facts: FixtureFacts
}

interface Fixture {
  name: string
  pcap: string
  ports: number[]
  connections: FixtureConnection[]
}

/** Classic pcap with microsecond timestamps (what pcap-parser reads) and TCP facts to check. */
function fixtures(): Fixture[] {
  const found: Fixture[] = []
  for (const dir of fixtureDirs()) {
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'))
    if (typeof expected.capture !== 'string' || !expected.capture.endsWith('.pcap')) continue
    const pcap = join(dir, expected.capture)
    const magic = readFileSync(pcap).subarray(0, 4).toString('hex')
    if (magic !== 'd4c3b2a1' && magic !== 'a1b2c3d4') continue
    // other-port-only lists its connection under the ports that select it.
    const scope = expected.withPorts ?? expected
    const connections: FixtureConnection[] = (scope.connections ?? []).filter((c: FixtureConnection) => c.facts !== undefined)
    if (connections.length > 0) found.push({name: dir.split('/fixtures/')[1]!, pcap, ports: scope.ports, connections})
  }
  return found
}

const frames = (refs: Array<{frame: number; from: string}>) => refs.map((r) => ({frame: r.frame, from: r.from}))

describe('ConnectionTracker on fixtures/tcp captures (facts from each expected.json)', () => {
  const all = fixtures()

  it('finds the TCP fixtures it can read', () => {
    expect(all.map((f) => f.name)).toEqual(expect.arrayContaining(['tcp/refused', 'tcp/filtered', 'tcp/port-reuse', 'tcp/midstream']))
  })

  for (const fixture of all) {
    it(`${fixture.name}: ${fixture.connections.length} connection(s) as tshark saw them`, async () => {
      const ports = new Set(fixture.ports)
      const tracker = new ConnectionTracker({isServerPort: (port) => ports.has(port)})
      replay(await readFrames(fixture.pcap), (packet) => tracker.push(packet))
      const ours = tracker.finish().filter((c: TrackedConnection) => ports.has(c.server.port))
      expect(ours).toHaveLength(fixture.connections.length)
      ours.forEach((conn, i) => {
        const want = fixture.connections[i]!
        const facts = want.facts
        const tcp = conn.tcp
        expect(`${conn.client.ip}:${conn.client.port}`).toBe(want.client)
        expect(`${conn.server.ip}:${conn.server.port}`).toBe(want.server)
        if (want.clientBy !== undefined) expect(tcp.clientBy).toBe(want.clientBy)
        expect({
          firstFrame: tcp.firstFrame,
          lastFrame: tcp.lastFrame,
          sawOpening: tcp.sawOpening,
          synFrame: tcp.syn?.frame ?? null,
          synRetransmissionFrames: tcp.synRetransmissions.map((r) => r.frame),
          synAckFrame: tcp.synAck?.frame ?? null,
          ackFrame: tcp.ack?.frame ?? null,
          rst: frames(tcp.rst),
          fin: frames(tcp.fin),
          c2sPayloadBytes: tcp.c2s.bytes,
          s2cPayloadBytes: tcp.s2c.bytes,
        }).toEqual({
          firstFrame: facts.firstFrame,
          lastFrame: facts.lastFrame,
          sawOpening: facts.sawOpening,
          synFrame: facts.synFrame,
          synRetransmissionFrames: facts.synRetransmissionFrames,
          synAckFrame: facts.synAckFrame,
          ackFrame: facts.ackFrame,
          rst: frames(facts.rst),
          fin: frames(facts.fin),
          c2sPayloadBytes: facts.c2sPayloadBytes,
          s2cPayloadBytes: facts.s2cPayloadBytes,
        })
        if (facts.ackFrame !== null && facts.handshakeRttMs !== null) {
          // expected.json rounds to 3 decimals (µs).
          expect(Math.abs(tcp.handshakeRttMs! - facts.handshakeRttMs)).toBeLessThan(0.0011)
        }
        // A refused connection: the RST/ACK answering the SYN.
        const refused = facts.synAckFrame === null && facts.rst.length > 0 && facts.rst[0]!.from === 'server'
        expect(tcp.rstToSyn?.frame).toBe(refused ? facts.rst[0]!.frame : undefined)
      })
    })
  }
})
