/**
 * The tracker on real TCP from the public corpus, checked against tshark 4.x. Every expected
 * value below was read with tshark, not with this code:
 *   streams:           tshark -r F -T fields -e tcp.stream | sort -u | wc -l
 *   packets each way:  tshark -r F -q -z conv,tcp   (the Frames columns)
 *   payload each way:  tshark -r F -Y tcp -T fields -e tcp.stream -e ip.src -e tcp.srcport -e tcp.len  (summed)
 *   delivered bytes:   tshark -r F -q -z follow,tcp,raw,N   (hex of each side, decoded; length and SHA-256)
 *   initial RTT:       tshark -r F -T fields -e tcp.analysis.initial_rtt
 *   retransmissions:   tshark -r F -Y tcp.analysis.retransmission -T fields -e tcp.stream -e tcp.srcport -e tcp.len
 *   SYN options:       tshark -r F -Y tcp.flags.syn==1 -T fields -e frame.number -e tcp.options.mss_val
 *                        -e tcp.options.wscale.shift -e tcp.options.sack_perm -e tcp.options.timestamp.tsval
 *
 * Deliberate differences from tshark, asserted as such:
 * - tshark's tcp.analysis.retransmission also flags FIN-only segments (len 0) sent again; our
 *   retransmissions count segments whose PAYLOAD was all received before (v6.pcap: 1 each way).
 * - tshark's initial_rtt ends at the first packet with ACK and without SYN from EITHER side; our
 *   handshake ACK is the client's ACK of the server's SYN. They differ when the server sends data
 *   before the client's ACK is captured (CVE-2018-6794.pcap).
 */
import {createHash} from 'node:crypto'
import {expect, it} from 'vitest'
import {ConnectionTracker} from '../../src/stream/tracker.js'
import type {Direction, Endpoint, StreamHandler, TrackedConnection} from '../../src/stream/types.js'
import {CORPUS_PCAPS as CORPUS} from '../helpers/paths.js'
import {describeWithJa4} from '../helpers/skip.js'
import {readFrames, replay} from './real-packets.js'

const SERVER_PORTS = new Set([22, 80, 443, 8080, 8084, 8089, 9901])

interface SideFacts {
  packets: number
  bytes: number
  deliveredBytes: number
  sha256: string
  /** tshark's count, and how many of those were FIN-only (len 0), which we do not count. */
  tsharkRetransmissions: number
  finOnlyRetransmissions: number
}

interface StreamFacts {
  client: string
  server: string
  c2s: SideFacts
  s2c: SideFacts
  initialRttMs?: number
}

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

function side(packets: number, bytes: number, deliveredBytes: number, sha256: string, tsharkRetransmissions = 0, finOnlyRetransmissions = 0): SideFacts {
  return {packets, bytes, deliveredBytes, sha256, tsharkRetransmissions, finOnlyRetransmissions}
}

const EXPECTED: Record<string, StreamFacts[]> = {
  // Frame 7: the server ACKs 240 but the client's bytes 39..240 were never captured (a 201-byte gap,
  // tshark: "ACKed unseen segment"); frames 8/9 arrive out of order.
  'socks4-https.pcap': [
    {
      client: '10.0.0.1:50606',
      server: '10.0.0.2:9901',
      initialRttMs: 319.009,
      c2s: side(6, 38, 38, '69fe73eea1af4a620dedd70ec0e0614ca5aa82ff0f351529771e2b772561508b'),
      s2c: side(10, 6784, 6784, '6d62fda4cbe85c8906501d7039b6c0dea62c8feeb37f41834349619db422694b'),
    },
  ],
  // The server sends its response and FIN before the client's ACK; the client retransmits its
  // request+FIN five times per connection. Our RTTs end at the client ACK: frames 5, 14, 23.
  'CVE-2018-6794.pcap': [
    {
      client: '192.168.235.1:53649',
      server: '192.168.235.136:8089',
      initialRttMs: 4.875, // frame 5 (0.004875) - frame 1 (0); tshark: 4.440 at frame 3 (server data)
      c2s: side(10, 2454, 409, '8b2ff034e38c4c8b2ac59f469218f785c9fdb97c5c8b3d6d68df2763b3ec8b5f', 5),
      s2c: side(3, 85, 85, 'b9b05b060ed7536a8960a6f79a15bd276edccc1eefae003162474a922437a9bb'),
    },
    {
      client: '192.168.235.1:53656',
      server: '192.168.235.136:8089',
      initialRttMs: 3.575, // frame 14 (1.918609) - frame 10 (1.915034); tshark: 3.028 at frame 12
      c2s: side(10, 2298, 383, 'ce9384a5848c650d3e7957de87260a49db4f8af644516cd1529ac5020722ed74', 5),
      s2c: side(3, 85, 85, 'b9b05b060ed7536a8960a6f79a15bd276edccc1eefae003162474a922437a9bb'),
    },
    {
      client: '192.168.235.1:53648',
      server: '192.168.235.136:8089',
      initialRttMs: 4.192, // frame 23 (3.004846) - frame 19 (3.000654); tshark: 3.897 at frame 21
      c2s: side(4, 0, 0, EMPTY),
      s2c: side(3, 85, 85, 'b9b05b060ed7536a8960a6f79a15bd276edccc1eefae003162474a922437a9bb'),
    },
  ],
  // IPv6; frames 74 and 75 are FIN retransmissions with no payload.
  'v6.pcap': [
    {
      client: '3ffe:507:0:1:200:86ff:fe05:80da:1022',
      server: '3ffe:501:410:0:2c0:dfff:fe47:33e:22',
      initialRttMs: 57.531,
      c2s: side(32, 879, 879, '78551f84ab06f06bb9df3707ecc575ea7500855faa9cca2051cb7d882305bad1', 1, 1),
      s2c: side(30, 3747, 3747, 'ea7ce69e9f0c065f59e6b505c573feb6d18fe00734e8a3dea51bac86bfa5e784', 1, 1),
    },
  ],
  'https-connect.pcap': [
    {
      client: '10.11.12.13:54723',
      server: '10.9.8.7:8080',
      initialRttMs: 27.155,
      c2s: side(8, 499, 499, '4cdc9a9ef34bb84c13fde7e18ca17b3e2ba2c036024c1e40d42d2b5513c188ab'),
      s2c: side(10, 3901, 3901, '8d440bbdb45bf07b28e5ce2d832a3755395bf7319de3ae100d51d92a72fb92c1'),
    },
  ],
  'macos_tcp_flags.pcap': [
    {
      client: '172.16.5.16:61311',
      server: '172.67.24.71:443',
      initialRttMs: 34.635,
      c2s: side(23, 1264, 1264, '9c6b09676b82fb26ff51bf4e2360e5f21e88a1688fdacfc1bac6e00b3e1e22f3'),
      s2c: side(20, 9313, 9313, '44eaa8ac3e6d3392ae215cf8b60e6e774d9e859251ddf0098fae09177c45c7f7'),
    },
  ],
  // 1 MB of scp over 1000 frames.
  'ssh-scp-1050.pcap': [
    {
      client: '192.168.1.169:49237',
      server: '192.168.1.197:22',
      initialRttMs: 0.436,
      c2s: side(207, 7968, 7968, '65fd3c848aeb4dcfcccfdf86f11907e30f66c05865d6c1096c3223647407ac35'),
      s2c: side(793, 1027089, 1027089, '6a9d289c160c1b2e5adbbc50228c4f48cfc31794d1415edd05938b7250450c33'),
    },
  ],
  // Nine connections of one packet each, no handshake: the client is decided by port. Stream 8
  // is a response from port 80, so its bytes are server→client.
  'single-packets.pcap': [
    {client: '192.168.25.150:49677', server: '74.125.24.149:80', c2s: side(1, 574, 574, 'a1c9e7bf9ca41fab242109eec0b36e7aa007fbc30114bf7654077f3fb9bd8cb1'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49654', server: '118.215.80.242:80', c2s: side(1, 1324, 1324, 'f46fdb753874c78167bea17aed899c0564d01c003a66f26a1adca27ccaadf10c'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49683', server: '13.115.50.210:80', c2s: side(1, 400, 400, '2ebb0e1c9d02b34c3930ab2cd2d2919fd899f5b8db40a2febd334bf7868ba4ce'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49708', server: '104.89.119.175:80', c2s: side(1, 616, 616, 'e5bf4eeac3e9c1c2fa70ae1f9a90e4fe46359fc3e1c43ea141075845a7b9acc7'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49735', server: '193.242.192.43:80', c2s: side(1, 578, 578, 'dfbb6b67c70cf672bfb6b96029043c36211bde0e38033c305c2fdf9c02483385'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49733', server: '74.125.24.100:80', c2s: side(1, 762, 762, 'c7e32abcb3ec0d656269dda3df4a52468ce85b7b2ba9667d6f8109d96c134460'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49743', server: '74.125.24.95:80', c2s: side(1, 504, 504, '7ceb475c4c32d51b4487561f9020ca70a173db5a8ce9f298adc8d40726ac427c'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49738', server: '35.174.150.168:80', c2s: side(1, 871, 871, '93b51525193b37957e1ce4e4a3ff3a1517094d6bf1d7e4091bff5ba5aba42d32'), s2c: side(0, 0, 0, EMPTY)},
    {client: '192.168.25.150:49749', server: '68.178.213.61:80', c2s: side(0, 0, 0, EMPTY), s2c: side(1, 189, 189, '9fa69cf584383c71c67cfea0349f9c236b4bffac3da6f9bd7b320d35b59dc05b')},
  ],
}

/** Collects each connection's delivered bytes per direction. */
class Collector {
  readonly bytes = new Map<number, Record<Direction, Buffer[]>>()
  readonly gaps: Array<{id: number; direction: Direction; size: number; frame: number}> = []

  handler(conn: TrackedConnection): StreamHandler {
    const chunks: Record<Direction, Buffer[]> = {c2s: [], s2c: []}
    this.bytes.set(conn.id, chunks)
    return {
      data: (direction, bytes) => chunks[direction].push(Buffer.from(bytes)),
      gap: (direction, size, ref) => this.gaps.push({id: conn.id, direction, size, frame: ref.frame}),
    }
  }

  digest(id: number, direction: Direction): {length: number; sha256: string} {
    const all = Buffer.concat(this.bytes.get(id)![direction])
    return {length: all.length, sha256: createHash('sha256').update(all).digest('hex')}
  }
}

async function track(file: string, options: {maxConnections?: number} = {}) {
  const collector = new Collector()
  const tracker = new ConnectionTracker({
    isServerPort: (port) => SERVER_PORTS.has(port),
    onConnection: (conn) => collector.handler(conn),
    ...options,
  })
  replay(await readFrames(file), (packet) => tracker.push(packet))
  return {connections: tracker.finish(), collector}
}

const text = (endpoint: Endpoint) => `${endpoint.ip}:${endpoint.port}`

describeWithJa4('ConnectionTracker on real captures (expected values from tshark)', () => {
  for (const [file, streams] of Object.entries(EXPECTED)) {
    it(`${file}: ${streams.length} TCP streams, endpoints, packets, bytes, delivered bytes, RTT and retransmissions`, async () => {
      const {connections, collector} = await track(`${CORPUS}/${file}`)
      expect(connections.map((c) => c.id)).toEqual(streams.map((_, i) => i + 1))
      connections.forEach((conn, i) => {
        const want = streams[i]!
        expect({client: text(conn.client), server: text(conn.server)}).toEqual({client: want.client, server: want.server})
        for (const direction of ['c2s', 's2c'] as const) {
          const stats = conn.tcp[direction]
          const expected = want[direction]
          expect(stats.packets, `${direction} packets`).toBe(expected.packets)
          expect(stats.bytes, `${direction} payload bytes`).toBe(expected.bytes)
          expect(stats.deliveredBytes, `${direction} delivered`).toBe(expected.deliveredBytes)
          expect(stats.retransmissions, `${direction} retransmissions`).toBe(expected.tsharkRetransmissions - expected.finOnlyRetransmissions)
          const digest = collector.digest(conn.id, direction)
          expect(digest.length).toBe(expected.deliveredBytes)
          expect(digest.sha256, `${direction} bytes equal tshark's follow output`).toBe(expected.sha256)
        }
        if (want.initialRttMs === undefined) {
          expect(conn.tcp.handshakeRttMs).toBeUndefined()
        } else {
          expect(conn.tcp.handshakeRttMs).toBeCloseTo(want.initialRttMs, 3) // µs timestamps
        }
      })
    })
  }

  it('socks4-https.pcap: the ACK of uncaptured client bytes declares a 201-byte gap at frame 7, before the end', async () => {
    const {connections, collector} = await track(`${CORPUS}/socks4-https.pcap`)
    // tshark frame 7: "[TCP ACKed unseen segment] 9901 → 50606 [ACK] Seq=9 Ack=240"; the client's
    // last captured byte is 38 (Seq=1 Len=38), so 240 - 39 = 201 bytes were never captured.
    expect(connections[0]!.tcp.gaps).toEqual([{direction: 'c2s', size: 201, frame: 7, ts: expect.any(Number)}])
    expect(collector.gaps).toEqual([{id: 1, direction: 'c2s', size: 201, frame: 7}])
    // Frame 8 (Seq=1369) arrived before frame 9 (Seq=9): one out-of-order segment server→client.
    expect(connections[0]!.tcp.s2c.outOfOrder).toBe(1)
  })

  it('handshake facts and SYN options as tshark shows them (macos_tcp_flags.pcap, v6.pcap)', async () => {
    const macos = (await track(`${CORPUS}/macos_tcp_flags.pcap`)).connections[0]!.tcp
    // Frame 1: MSS=1460 WS=64 (shift 6) SACK_PERM TSval; frame 2: MSS=1134 SACK_PERM TSval WS=256 (shift 8).
    expect(macos.syn).toEqual({frame: 1, ts: expect.any(Number), mss: 1460, windowScale: 6, sackPermitted: true, timestamps: true})
    expect(macos.synAck).toEqual({frame: 2, ts: expect.any(Number), mss: 1134, windowScale: 8, sackPermitted: true, timestamps: true})
    expect(macos.ack?.frame).toBe(3)
    expect(macos.clientBy).toBe('syn')
    expect(macos.sawOpening).toBe(true)
    expect([macos.firstFrame, macos.lastFrame]).toEqual([1, 43])
    const v6 = (await track(`${CORPUS}/v6.pcap`)).connections[0]!.tcp
    // Frames 16/17: MSS=1440 WS=1 (shift 0) TSval, no SACK_PERM; MSS=1220 WS=1 TSval.
    expect(v6.syn).toEqual({frame: 16, ts: expect.any(Number), mss: 1440, windowScale: 0, timestamps: true})
    expect(v6.synAck).toEqual({frame: 17, ts: expect.any(Number), mss: 1220, windowScale: 0, timestamps: true})
    expect(v6.ack?.frame).toBe(18)
    // tshark -Y "tcp.flags.fin==1": frames 72 (client), 73 (server), 74 (client), 75 (server).
    expect(v6.fin.map((f) => [f.frame, f.from])).toEqual([[72, 'client'], [73, 'server'], [74, 'client'], [75, 'server']])
  })

  it('CVE-2018-6794.pcap: FINs and RSTs with who sent them', async () => {
    const {connections} = await track(`${CORPUS}/CVE-2018-6794.pcap`)
    // tshark -Y "tcp.flags.fin==1 or tcp.flags.reset==1" -T fields -e frame.number -e tcp.stream -e tcp.srcport -e tcp.flags.fin -e tcp.flags.reset
    const events = connections.map((c) => ({
      fin: c.tcp.fin.map((f) => `${f.frame}${f.from[0]}`).join(' '),
      rst: c.tcp.rst.map((f) => `${f.frame}${f.from[0]}`).join(' '),
    }))
    expect(events).toEqual([
      {fin: '4s 7c 8c 9c 15c 26c 28c', rst: '30c'},
      {fin: '13s 17c 18c 24c 25c 27c 29c', rst: '33c'},
      {fin: '22s 31c', rst: '32c'},
    ])
    for (const conn of connections) expect(conn.tcp.rstToSyn).toBeUndefined()
  })

  it('a connection limit of 4 on single-packets.pcap finishes the 5 oldest early, with an Issue each', async () => {
    const {connections, collector} = await track(`${CORPUS}/single-packets.pcap`, {maxConnections: 4})
    expect(connections).toHaveLength(9)
    const limited = connections.filter((c) => c.issues.some((i) => i.code === 'stream.connection-limit'))
    expect(limited.map((c) => c.id)).toEqual([1, 2, 3, 4, 5])
    // Finishing early loses nothing already delivered.
    expect(collector.digest(1, 'c2s').length).toBe(574)
  })
})
