/**
 * tcp.ack — the client's ACK of the SYN-ACK completed the three-way handshake (RFC 9293 §3.5).
 * The handshake RTT is measured at the capture point, as Wireshark's tcp.analysis.initial_rtt:
 * SYN → ACK, split into its SYN → SYN-ACK and SYN-ACK → ACK halves (the larger half is the
 * side of the path away from the capture point).
 */
import {countOf} from '../lists.js'
import type {CheckResult} from '../model/checks.js'
import {captureEndedWithinRto, synAttempts, type TcpCheckFacts} from './tcp-handshake.js'
import {count, elapsedMs, formatMs} from '../model/format.js'

export function checkTcpAck(facts: TcpCheckFacts): CheckResult {
  const {tcp} = facts
  const {syn, synAck, ack} = tcp
  if (ack) {
    const values: Record<string, unknown> = {}
    const frames: number[] = []
    if (syn) frames.push(syn.frame)
    if (synAck) frames.push(synAck.frame)
    frames.push(ack.frame)
    let timing: string
    if (tcp.handshakeRttMs !== undefined) {
      values.handshakeRttMs = tcp.handshakeRttMs
      timing = `RTT ${formatMs(tcp.handshakeRttMs)}`
      if (syn && synAck) {
        values.synToSynAckMs = elapsedMs(syn.ts, synAck.ts)
        values.synAckToAckMs = elapsedMs(synAck.ts, ack.ts)
        timing += ` (SYN to SYN-ACK ${formatMs(values.synToSynAckMs as number)}, SYN-ACK to ACK ${formatMs(values.synAckToAckMs as number)})`
      }
    } else {
      timing = 'RTT unknown: the SYN was not captured'
    }
    return {
      id: 'tcp.ack',
      status: 'pass',
      confidence: 'observed',
      summary: `handshake completed: client ACK in frame ${ack.frame}, ${timing}`,
      evidence: {frames, values},
    }
  }
  if (synAck) {
    // The client's answer to a SYN-ACK it did not expect (its connect gave up, or the SYN-ACK
    // reached a host that never sent the SYN) is a RST (RFC 9293 §3.10.7.3).
    const clientRst = tcp.rst.find((event) => event.from === 'client' && event.ts >= synAck.ts)
    const tail = clientRst ? undefined : captureEndedWithinRto(facts, synAck)
    if (tail !== undefined) {
      return {
        id: 'tcp.ack',
        status: 'warn',
        confidence: 'observed',
        summary: `capture ended ${formatMs(tail)} after the SYN-ACK, before the client's ACK could be seen`,
        evidence: {frames: [synAck.frame], values: {captureTailMs: tail}},
        hint: 'capture for longer: keep tcpdump running at least a few seconds after the Defender connects',
      }
    }
    const repeated = countOf(tcp, 'synAckRetransmissions', tcp.synAckRetransmissions)
    const frames = [synAck.frame, ...tcp.synAckRetransmissions.map((ref) => ref.frame)]
    if (clientRst) frames.push(clientRst.frame)
    const detail = clientRst
      ? `; the client answered with RST (frame ${clientRst.frame})`
      : repeated > 0
        ? `; the server retransmitted the SYN-ACK ${count(repeated, 'time')}`
        : ''
    return {
      id: 'tcp.ack',
      status: 'fail',
      confidence: 'observed',
      summary: `SYN-ACK (frame ${synAck.frame}) never acknowledged: the client did not complete the handshake${detail}`,
      evidence: {frames, values: {synAckRetransmissions: repeated, clientRst: clientRst !== undefined}},
      hint: clientRst
        ? 'the client reset the connection it had opened: it gave up waiting (connect timeout), or a NAT or asymmetric route delivered the SYN-ACK to a host that never sent the SYN'
        : 'the client never completed the handshake: the SYN-ACK does not reach the client or its ACK does not come back (asymmetric routing, a firewall on the return path), or the capture sees only one direction of the traffic',
    }
  }
  if (!syn) {
    return {
      id: 'tcp.ack',
      status: 'skip',
      confidence: 'observed',
      summary: 'no SYN: capture started after the connection opened, so the handshake is not in it',
      evidence: {frames: [tcp.firstFrame]},
    }
  }
  if (tcp.rstToSyn) {
    return {
      id: 'tcp.ack',
      status: 'fail',
      confidence: 'observed',
      summary: `no handshake to complete: the server refused the connection (RST in frame ${tcp.rstToSyn.frame})`,
      evidence: {frames: [syn.frame, tcp.rstToSyn.frame]},
      hint: 'see tcp.syn-ack: the Console port refused the connection',
    }
  }
  const attempts = synAttempts(facts)
  // SYNs past LIST_CAPS.synRetransmissions are counted, not listed.
  const syns = countOf(facts.tcp, 'synRetransmissions', facts.tcp.synRetransmissions) + 1
  const tail = captureEndedWithinRto(facts, syn)
  if (tail !== undefined) {
    return {
      id: 'tcp.ack',
      status: 'skip',
      confidence: 'observed',
      summary: `no handshake to complete: capture ended ${formatMs(tail)} after the SYN`,
      evidence: {frames: attempts.map((ref) => ref.frame)},
    }
  }
  return {
    id: 'tcp.ack',
    status: 'fail',
    confidence: 'observed',
    summary: `no handshake to complete: ${count(syns, 'SYN')} unanswered, no SYN-ACK`,
    evidence: {frames: attempts.map((ref) => ref.frame)},
    hint: 'see tcp.syn-ack: the SYNs to the Console port get no answer',
  }
}
