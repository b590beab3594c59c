/**
 * TCP's share of the ladder: the opening (SYN, SYN-ACK, ACK and their retransmissions), bytes
 * never captured, RST and FIN, and, when nothing above TCP was read (refused, filtered, plain
 * data), the payload each way.
 */
import {formatMs} from '../../model/format.js'
import {formatBytes, sideOf} from './format.js'
import type {LadderPart} from './events.js'

export const tcpLadder: LadderPart = {
  events({facts, add, appEvents}) {
    const tcp = facts.tcp
    if (tcp.syn) add(0, tcp.syn, 'client', 'syn', 'SYN')
    for (const ref of tcp.synRetransmissions) add(0, ref, 'client', 'syn', 'SYN', {retransmission: true, detail: 'retransmitted'})
    if (tcp.synAck) add(0, tcp.synAck, 'server', 'syn-ack', 'SYN-ACK')
    for (const ref of tcp.synAckRetransmissions) add(0, ref, 'server', 'syn-ack', 'SYN-ACK', {retransmission: true, detail: 'retransmitted'})
    if (tcp.ack) add(0, tcp.ack, 'client', 'ack', 'ACK', tcp.handshakeRttMs !== undefined ? {detail: `RTT ${formatMs(tcp.handshakeRttMs)}`} : {})
    for (const gap of tcp.gaps) add(1, gap, sideOf(gap.direction), 'gap', 'not captured', {detail: `${formatBytes(gap.size)} missing`, bytes: gap.size})
    // Without TLS (refused, filtered, plain HTTP): the payload each way, one line per direction.
    if (!facts.tls && !facts.proxy && appEvents.size === 0) {
      for (const direction of ['c2s', 's2c'] as const) {
        const bytes = tcp[direction].bytes
        if (bytes === 0) continue
        add(1, {frame: tcp.firstFrame, ts: tcp.startTs}, sideOf(direction), 'application-data', 'data', {detail: `${formatBytes(bytes)} in total (no TLS)`, bytes})
      }
    }
    for (const rst of tcp.rst) {
      add(3, rst, rst.from, 'rst', 'RST', tcp.rstToSyn?.frame === rst.frame ? {detail: 'refused'} : {})
    }
    for (const fin of tcp.fin) add(3, fin, fin.from, 'fin', 'FIN')
  },
}
