/**
 * tcp.syn — the client's SYN to the Console port is in the capture (RFC 9293 §3.5: the
 * three-way handshake starts with it). Without it the capture began mid-connection and the
 * handshake checks have nothing to read.
 */
import {countOf} from '../lists.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {CheckResult} from '../model/checks.js'
import {describeSynOptions, synOptionValues} from './tcp-handshake.js'
import {count, formatEndpoint} from '../model/format.js'

export function checkTcpSyn(facts: ConnectionFacts): CheckResult {
  const {tcp} = facts
  const syn = tcp.syn
  if (!syn) {
    // What was seen first says why the SYN is missing: a SYN-ACK means the capture started
    // between the SYN and its answer; anything else means it started after the handshake.
    const firstSeen = tcp.synAck
      ? `the first packet seen is the server's SYN-ACK (frame ${tcp.synAck.frame})`
      : `the first packet seen is frame ${tcp.firstFrame}, mid-connection (client and server told apart by ${tcp.clientBy === 'port' ? 'the Console port' : 'the SYN-ACK'})`
    return {
      id: 'tcp.syn',
      status: 'skip',
      confidence: 'inferred',
      summary: `no SYN: capture started after the connection opened; ${firstSeen}`,
      evidence: {frames: [tcp.firstFrame], values: {firstFrame: tcp.firstFrame, clientBy: tcp.clientBy}},
      hint: 'start the capture before the Defender connects (restart the Defender, or wait for it to reconnect) to see the handshake',
    }
  }
  const retransmissions = countOf(tcp, 'synRetransmissions', tcp.synRetransmissions)
  const retried = retransmissions > 0 ? `; sent ${count(retransmissions + 1, 'time')} (${count(retransmissions, 'retransmission')})` : ''
  const frames = [syn.frame]
  for (const ref of tcp.synRetransmissions) frames.push(ref.frame)
  const values = synOptionValues(syn)
  values.retransmissions = retransmissions
  return {
    id: 'tcp.syn',
    status: 'pass',
    confidence: 'observed',
    summary: `client SYN to ${formatEndpoint(facts.server)} in frame ${syn.frame} (${describeSynOptions(syn)})${retried}`,
    evidence: {frames, values},
  }
}
