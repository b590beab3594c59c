/**
 * analysis/answered-by.ts on the signals the tracker keeps: the cases the fixtures/path captures
 * do not hold (a SYN-ACK whose timestamps option the server's later packets contradict, a
 * capture not taken on the client's host, a loopback Console, too few packets to judge), each
 * against the same connection with one thing changed.
 */
import {describe, expect, it} from 'vitest'
import {answeredByOf} from '../../src/analysis/answered-by.js'
import {newPathSignals, type PathSignals} from '../../src/stream/path-signals.js'
import type {TrackedConnection} from '../../src/stream/types.js'

const stats = () => ({packets: 5, bytes: 500, deliveredBytes: 500, retransmissions: 0, overlaps: 0, outOfOrder: 0})

/** A client-side capture: a SYN-ACK 0.05 ms after the SYN with TTL 64, the Console's data at TTL 62, responses 45 ms or more. */
function connection(change: (signals: PathSignals, conn: TrackedConnection) => void = () => {}): TrackedConnection {
  const path = newPathSignals()
  Object.assign(path, {
    clientTtlMin: 64,
    clientTtlMax: 64,
    clientTtlPackets: 10,
    serverTtlMin: 62,
    serverTtlMax: 62,
    serverTtlPackets: 10,
    serverDataTtlMin: 62,
    serverDataTtlMax: 62,
    serverDataPackets: 6,
    synAckTtl: 62,
    serverLaterWithTimestamps: 10,
    turns: 5,
    turnMinMs: 45,
    turnMinFrames: [8, 9],
    turnSecondMs: 50,
    turnSecondFrames: [10, 11],
  })
  const conn: TrackedConnection = {
    id: 1,
    client: {ip: '10.0.0.2', port: 40000},
    server: {ip: '10.9.0.2', port: 8084},
    tcp: {
      syn: {frame: 1, ts: 100, timestamps: true},
      synAck: {frame: 2, ts: 100.000045, timestamps: true},
      ack: {frame: 3, ts: 100.00006},
      synRetransmissions: [],
      synAckRetransmissions: [],
      rst: [],
      fin: [],
      c2s: stats(),
      s2c: stats(),
      gaps: [],
      sawOpening: true,
      clientBy: 'syn',
      firstFrame: 1,
      lastFrame: 20,
      startTs: 100,
      endTs: 101,
    },
    path,
    issues: [],
  }
  change(path, conn)
  return conn
}

const kinds = (conn: TrackedConnection) => answeredByOf(conn)?.findings.map((finding) => finding.kind) ?? []

describe('answeredByOf', () => {
  it('a SYN-ACK as the Console\'s other packets and as slow as its responses: nothing', () => {
    expect(answeredByOf(connection((signals, conn) => (conn.tcp.synAck!.ts = 100.04)))).toBeUndefined()
  })

  it('early-handshake: the SYN-ACK in 0.045 ms from TTL 62, the responses at least 50 ms', () => {
    const found = answeredByOf(connection())!.findings
    expect(found.map((finding) => finding.kind)).toEqual(['early-handshake'])
    expect(found[0]!.values).toMatchObject({synToSynAckMs: 0.045, secondQuickestTurnMs: 50, quickestTurnMs: 45, synAckRouters: 2})
    expect(found[0]!.frames).toEqual([1, 2, 10, 11])
  })

  it('no timing finding with fewer than 3 responses, or responses under 10 ms longer than the handshake', () => {
    expect(kinds(connection((signals) => (signals.turns = 2)))).toEqual([])
    expect(kinds(connection((signals) => (signals.turnSecondMs = 9)))).toEqual([])
  })

  it('no timing finding when the capture was not taken on the client\'s host (its packets crossed a router)', () => {
    expect(kinds(connection((signals) => Object.assign(signals, {clientTtlMin: 63, clientTtlMax: 63})))).toEqual([])
  })

  it('local-proxy needs zero routers and under 1 ms; on loopback nothing is on the way, so no timing finding', () => {
    expect(kinds(connection((signals) => (signals.synAckTtl = 64)))).toEqual(['local-proxy', 'handshake-elsewhere'])
    expect(kinds(connection((signals, conn) => ((signals.synAckTtl = 64), (conn.tcp.synAck!.ts = 100.0011))))).toEqual(['early-handshake', 'handshake-elsewhere'])
    const onLoopback = (signals: PathSignals, conn: TrackedConnection) => ((signals.synAckTtl = 64), (signals.serverDataTtlMin = signals.serverDataTtlMax = 64))
    expect(kinds(connection((signals, conn) => (onLoopback(signals, conn), (conn.server.ip = '127.0.0.9'))))).toEqual([])
    expect(kinds(connection((signals, conn) => (onLoopback(signals, conn), (conn.server.ip = '::1'))))).toEqual([])
    expect(kinds(connection((signals, conn) => (onLoopback(signals, conn), (conn.server.ip = conn.client.ip))))).toEqual([])
  })

  it('handshake-elsewhere by TTL only for a SYN-ACK from nearer than the server\'s data (a device in front), not farther (a route change)', () => {
    const slow = (conn: TrackedConnection) => (conn.tcp.synAck!.ts = 100.04)
    expect(kinds(connection((signals, conn) => (slow(conn), (signals.synAckTtl = 63))))).toEqual(['handshake-elsewhere'])
    expect(kinds(connection((signals, conn) => (slow(conn), (signals.synAckTtl = 61))))).toEqual([])
  })

  it('handshake-elsewhere: a SYN-ACK with timestamps the server\'s later packets never carry (RFC 7323 section 3.2)', () => {
    const conn = connection((signals, c) => {
      c.tcp.synAck!.ts = 100.04 // no timing contrast
      signals.serverLaterWithTimestamps = 0
      signals.serverLaterWithoutTimestamps = 10
    })
    const found = answeredByOf(conn)!.findings
    expect(found.map((finding) => finding.kind)).toEqual(['handshake-elsewhere'])
    expect(found[0]!.reason).toContain('carried the TCP timestamps option and none of the server\'s 10 later packets do')
    // One later packet with timestamps: the same stack, no finding.
    expect(kinds(connection((signals, c) => ((c.tcp.synAck!.ts = 100.04), (signals.serverLaterWithTimestamps = 1), (signals.serverLaterWithoutTimestamps = 9))))).toEqual([])
  })

  it('injected-reset: only a RST whose TTL is outside its side\'s range, and only with 2 packets of that side to compare', () => {
    const rst = (ttl: number, from: 'client' | 'server' = 'server') => ({frame: 15, ts: 100.9, from, ttl})
    const slow = (signals: PathSignals, conn: TrackedConnection) => (conn.tcp.synAck!.ts = 100.04)
    expect(kinds(connection((signals, conn) => (slow(signals, conn), signals.rsts.push(rst(62)))))).toEqual([])
    expect(kinds(connection((signals, conn) => (slow(signals, conn), signals.rsts.push(rst(64)))))).toEqual(['injected-reset'])
    expect(kinds(connection((signals, conn) => (slow(signals, conn), signals.rsts.push(rst(64, 'client')))))).toEqual([])
    expect(kinds(connection((signals, conn) => (slow(signals, conn), signals.rsts.push(rst(60, 'client')))))).toEqual(['injected-reset'])
    expect(kinds(connection((signals, conn) => (slow(signals, conn), (signals.serverTtlPackets = 1), signals.rsts.push(rst(64)))))).toEqual([])
  })
})
