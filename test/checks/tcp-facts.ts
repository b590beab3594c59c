/**
 * ConnectionFacts for the TCP check tests, built from what tshark reads in real captures (the
 * values are quoted where each capture is defined). Checks read the model, not bytes, so the
 * model is what these tests construct.
 */
import type {ConnectionFacts} from '../../src/model/facts.js'
import {withDerivedFacts, type AssembledFacts} from '../../src/analysis/derive.js'
import type {Endpoint, TcpDirectionStats, TcpFacts} from '../../src/stream/types.js'

function stats(packets: number, bytes = 0): TcpDirectionStats {
  return {packets, bytes, deliveredBytes: bytes, retransmissions: 0, overlaps: 0, outOfOrder: 0}
}

type TcpInput = Partial<TcpFacts> & Pick<TcpFacts, 'firstFrame' | 'lastFrame' | 'startTs' | 'endTs'>

export function connectionFacts(
  client: Endpoint,
  server: Endpoint,
  tcp: TcpInput,
  captureEndTs?: number,
): ConnectionFacts {
  const full: TcpFacts = {
    synRetransmissions: [],
    synAckRetransmissions: [],
    rst: [],
    fin: [],
    c2s: stats(0),
    s2c: stats(0),
    gaps: [],
    sawOpening: tcp.syn !== undefined,
    clientBy: tcp.syn !== undefined ? 'syn' : tcp.synAck !== undefined ? 'syn-ack' : 'port',
    ...tcp,
  }
  const facts: AssembledFacts = {
    id: 1,
    client,
    server,
    startedAt: new Date(Math.round(full.startTs * 1000)).toISOString(),
    endedAt: new Date(Math.round(full.endTs * 1000)).toISOString(),
    tcp: full,
    issues: [],
  }
  if (captureEndTs !== undefined) facts.captureEndTs = captureEndTs
  return withDerivedFacts(facts)
}

/**
 * the JA4 corpus's pcap/tls-alpn-h2.pcap, tcp.stream 0 (tshark -T fields -e frame.number
 * -e frame.time_epoch -e tcp.flags.str -e tcp.options.mss_val -e tcp.options.wscale.shift
 * -e tcp.options.sack_perm -e tcp.options.timestamp.tsval -e tcp.analysis.initial_rtt):
 *   1 1593980608.621087 SYN      MSS 1346 wscale 6  SACK_PERM tsval 1852377212
 *   2 1593980608.658810 SYN,ACK  MSS 1346 wscale 10 SACK_PERM (no timestamps)
 *   3 1593980608.658880 ACK      initial_rtt 0.037793000
 * tcp.time_delta: 0.037723 (SYN → SYN-ACK), 0.000070 (SYN-ACK → ACK). 9 frames, last 1593980608.696428.
 */
export function completedHandshake(): ConnectionFacts {
  return connectionFacts(
    {ip: '2001:4998:ef83:14:8000::100d', port: 64034},
    {ip: '2606:4700::6811:d209', port: 443},
    {
      syn: {frame: 1, ts: 1593980608.621087, mss: 1346, windowScale: 6, sackPermitted: true, timestamps: true},
      synAck: {frame: 2, ts: 1593980608.65881, mss: 1346, windowScale: 10, sackPermitted: true, timestamps: false},
      ack: {frame: 3, ts: 1593980608.65888},
      handshakeRttMs: 37.793,
      c2s: stats(5, 355),
      s2c: stats(4, 2692),
      firstFrame: 1,
      lastFrame: 9,
      startTs: 1593980608.621087,
      endTs: 1593980608.696428,
    },
    1593980608.696428,
  )
}

/**
 * fixtures/tcp/refused/refused.pcap (a connect to a closed port on loopback):
 *   1 1795307650.731779 127.0.0.3:33511 → 127.0.0.3:8084 SYN     MSS 65495 wscale 10 SACK_PERM tsval
 *   2 1795307650.731790 127.0.0.3:8084 → 127.0.0.3:33511 RST,ACK
 * The capture ends with frame 2.
 */
export function refused(): ConnectionFacts {
  const rst = {frame: 2, ts: 1795307650.73179}
  return connectionFacts(
    {ip: '127.0.0.3', port: 33511},
    {ip: '127.0.0.3', port: 8084},
    {
      syn: {frame: 1, ts: 1795307650.731779, mss: 65495, windowScale: 10, sackPermitted: true, timestamps: true},
      rstToSyn: rst,
      rst: [{...rst, from: 'server'}],
      c2s: stats(1),
      s2c: stats(1),
      firstFrame: 1,
      lastFrame: 2,
      startTs: 1795307650.731779,
      endTs: 1795307650.73179,
    },
    1795307650.73179,
  )
}

/**
 * fixtures/tcp/filtered/filtered.pcap (nftables drops SYNs to 8084): four SYNs with
 * the same ISN from 127.0.0.4:38317 to 127.0.0.4:8084, MSS 65495 wscale 10 SACK_PERM tsval,
 *   1 1795307682.831451, 2 1795307683.841926, 3 1795307684.865981, 4 1795307685.893922
 * and nothing else; the capture ends with frame 4 (capinfos -e: 1795307685.893922).
 */
export function filtered(): ConnectionFacts {
  return connectionFacts(
    {ip: '127.0.0.4', port: 38317},
    {ip: '127.0.0.4', port: 8084},
    {
      syn: {frame: 1, ts: 1795307682.831451, mss: 65495, windowScale: 10, sackPermitted: true, timestamps: true},
      synRetransmissions: [
        {frame: 2, ts: 1795307683.841926},
        {frame: 3, ts: 1795307684.865981},
        {frame: 4, ts: 1795307685.893922},
      ],
      c2s: stats(4),
      firstFrame: 1,
      lastFrame: 4,
      startTs: 1795307682.831451,
      endTs: 1795307685.893922,
    },
    1795307685.893922,
  )
}

/**
 * the JA4 corpus's pcap/ssh2.pcapng, tcp.stream 6: five SYNs (same ISN 3544427180) from
 * 172.16.225.48:57369 to 146.112.255.155:1, MSS 1460 wscale 8 SACK_PERM, no timestamps, at
 *   102 1688672861.679635, 124 1688672862.683753, 210 1688672864.685779,
 *   263 1688672868.688030, 460 1688672876.691737
 * never answered; the capture goes on to frame 1391 at 1688672915.194232.
 */
export function unansweredInLongCapture(): ConnectionFacts {
  return connectionFacts(
    {ip: '172.16.225.48', port: 57369},
    {ip: '146.112.255.155', port: 1},
    {
      syn: {frame: 102, ts: 1688672861.679635, mss: 1460, windowScale: 8, sackPermitted: true, timestamps: false},
      synRetransmissions: [
        {frame: 124, ts: 1688672862.683753},
        {frame: 210, ts: 1688672864.685779},
        {frame: 263, ts: 1688672868.68803},
        {frame: 460, ts: 1688672876.691737},
      ],
      c2s: stats(5),
      firstFrame: 102,
      lastFrame: 460,
      startTs: 1688672861.679635,
      endTs: 1688672876.691737,
    },
    1688672915.194232,
  )
}

/**
 * fixtures/tcp/midstream/midstream.pcap: the capture starts on an established
 * connection, frame 1 a 57-byte client segment (ACK,PSH) 127.0.0.5:37827 → 127.0.0.5:8084 at
 * 1795307694.681183; 12 frames, FINs in 9 (client, 1795307694.683751) and 11 (server,
 * 1795307694.684395), last 1795307694.684405.
 */
export function midstream(): ConnectionFacts {
  return connectionFacts(
    {ip: '127.0.0.5', port: 37827},
    {ip: '127.0.0.5', port: 8084},
    {
      fin: [
        {frame: 9, ts: 1795307694.683751, from: 'client'},
        {frame: 11, ts: 1795307694.684395, from: 'server'},
      ],
      c2s: stats(6, 195),
      s2c: stats(6, 210),
      firstFrame: 1,
      lastFrame: 12,
      startTs: 1795307694.681183,
      endTs: 1795307694.684405,
    },
    1795307694.684405,
  )
}
