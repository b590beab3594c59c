/**
 * tcp.syn-ack — the server answered the client's SYN with a SYN-ACK (RFC 9293 §3.5). The two
 * ways it goes wrong look different on the wire: a RST answering the SYN means nothing listens
 * (or a firewall rejects); SYNs retransmitted with no answer mean they are dropped on the way.
 */
import {countOf} from '../lists.js'
import type {CheckResult} from '../model/checks.js'
import {captureEndedWithinRto, describeSynOptions, synAttempts, synOptionValues, type TcpCheckFacts} from './tcp-handshake.js'
import {count, elapsedMs, formatEndpoint, formatMs} from '../model/format.js'

export function checkTcpSynAck(facts: TcpCheckFacts): CheckResult {
  const {tcp, client, server} = facts
  const {syn, synAck} = tcp
  if (synAck) {
    const answered = syn
      ? `${formatMs(elapsedMs(syn.ts, synAck.ts))} after the ${tcp.synRetransmissions.length > 0 ? 'first ' : ''}SYN`
      : 'the SYN itself was not captured, so no delay'
    const synRetransmissions = countOf(tcp, 'synRetransmissions', tcp.synRetransmissions)
    const synAckRetransmissions = countOf(tcp, 'synAckRetransmissions', tcp.synAckRetransmissions)
    const retried = synRetransmissions > 0 ? `; the client had sent the SYN ${count(synRetransmissions + 1, 'time')}` : ''
    const repeated = synAckRetransmissions > 0 ? `; the server retransmitted the SYN-ACK ${count(synAckRetransmissions, 'time')}` : ''
    const values = synOptionValues(synAck)
    values.synAckRetransmissions = synAckRetransmissions
    if (syn) values.delayMs = elapsedMs(syn.ts, synAck.ts)
    const frames: number[] = []
    if (syn) frames.push(syn.frame)
    frames.push(synAck.frame)
    for (const ref of tcp.synAckRetransmissions) frames.push(ref.frame)
    return {
      id: 'tcp.syn-ack',
      status: 'pass',
      confidence: 'observed',
      summary: `server answered with SYN-ACK in frame ${synAck.frame}, ${answered} (${describeSynOptions(synAck)})${retried}${repeated}`,
      evidence: {frames, values},
    }
  }
  if (!syn) {
    return {
      id: 'tcp.syn-ack',
      status: 'skip',
      confidence: 'observed',
      summary: 'no SYN and no SYN-ACK in the capture: it started after the connection opened',
      evidence: {frames: [tcp.firstFrame]},
    }
  }
  if (tcp.rstToSyn) {
    // RFC 9293 §3.10.7.1: a SYN to a CLOSED port is answered with a RST.
    return {
      id: 'tcp.syn-ack',
      status: 'fail',
      confidence: 'observed',
      summary: `connection refused: server answered the SYN with RST (frame ${tcp.rstToSyn.frame})`,
      evidence: {frames: [syn.frame, tcp.rstToSyn.frame], values: {rstDelayMs: elapsedMs(syn.ts, tcp.rstToSyn.ts)}},
      hint: `nothing listens on ${formatEndpoint(server)}, or a firewall rejects it; check that the Console is running and COMMUNICATION_PORT is ${server.port}`,
    }
  }
  const attempts = synAttempts(facts)
  // SYNs past LIST_CAPS.synRetransmissions are counted, not listed.
  const syns = countOf(facts.tcp, 'synRetransmissions', facts.tcp.synRetransmissions) + 1
  const tail = captureEndedWithinRto(facts, syn)
  if (tail !== undefined) {
    return {
      id: 'tcp.syn-ack',
      status: 'warn',
      confidence: 'observed',
      summary: `capture ended ${formatMs(tail)} after the SYN, before an answer or a retransmission could be seen`,
      evidence: {frames: attempts.map((ref) => ref.frame), values: {syns, captureTailMs: tail}},
      hint: 'capture for longer: keep tcpdump running at least a few seconds after the Defender connects',
    }
  }
  const last = attempts.at(-1)!
  const spanSeconds = last.ts - syn.ts
  const values: Record<string, unknown> = {syns, spanMs: elapsedMs(syn.ts, last.ts)}
  if (facts.captureEndTs !== undefined) values.captureTailMs = elapsedMs(last.ts, facts.captureEndTs)
  return {
    id: 'tcp.syn-ack',
    status: 'fail',
    confidence: 'observed',
    summary:
      syns === 1
        ? 'SYN unanswered: 1 SYN, no reply'
        : `SYN unanswered: ${count(syns, 'SYN')} over ${syns > attempts.length ? 'at least ' : ''}${spanSeconds.toFixed(1)} s, no reply`,
    evidence: {frames: attempts.map((ref) => ref.frame), values},
    hint: `packets to ${server.port} are dropped (firewall/security group) or the address is unroutable; check the path between ${client.ip} and ${server.ip}`,
  }
}
