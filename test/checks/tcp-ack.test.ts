import {describe, expect, it} from 'vitest'
import {checkTcpAck} from '../../src/checks/tcp-ack.js'
import {completedHandshake, filtered, midstream, refused, unansweredInLongCapture} from './tcp-facts.js'

/** tls-alpn-h2.pcap as if the client's ACK (frame 3) had never come. */
function synAckNeverAcknowledged() {
  const facts = completedHandshake()
  delete facts.tcp.ack
  delete facts.tcp.handshakeRttMs
  return facts
}

describe('tcp.ack', () => {
  it("passes with the handshake RTT tshark reports as tcp.analysis.initial_rtt (0.037793 s) and its two halves", () => {
    const result = checkTcpAck(completedHandshake())
    expect(result).toEqual({
      id: 'tcp.ack',
      status: 'pass',
      confidence: 'observed',
      summary: 'handshake completed: client ACK in frame 3, RTT 37.8 ms (SYN to SYN-ACK 37.7 ms, SYN-ACK to ACK 0.070 ms)',
      evidence: {frames: [1, 2, 3], values: {handshakeRttMs: 37.793, synToSynAckMs: 37.723, synAckToAckMs: 0.07}},
    })
    // The halves add up to the RTT tshark computed independently.
    const values = result.evidence.values as Record<string, number>
    expect(values.synToSynAckMs + values.synAckToAckMs).toBeCloseTo(37.793, 6)
  })

  it('passes without an RTT when the SYN was not captured', () => {
    const facts = completedHandshake()
    delete facts.tcp.syn
    delete facts.tcp.handshakeRttMs
    const result = checkTcpAck(facts)
    expect(result.status).toBe('pass')
    expect(result.summary).toBe('handshake completed: client ACK in frame 3, RTT unknown: the SYN was not captured')
    expect(result.evidence).toEqual({frames: [2, 3], values: {}})
  })

  it('fails a SYN-ACK the client never acknowledged, naming the SYN-ACK retransmissions', () => {
    const facts = synAckNeverAcknowledged()
    facts.tcp.synAckRetransmissions = [
      {frame: 4, ts: facts.tcp.synAck!.ts + 1},
      {frame: 5, ts: facts.tcp.synAck!.ts + 3},
    ]
    facts.captureEndTs = facts.tcp.synAck!.ts + 10
    const result = checkTcpAck(facts)
    expect(result.status).toBe('fail')
    expect(result.summary).toBe(
      'SYN-ACK (frame 2) never acknowledged: the client did not complete the handshake; the server retransmitted the SYN-ACK 2 times',
    )
    expect(result.evidence).toEqual({frames: [2, 4, 5], values: {synAckRetransmissions: 2, clientRst: false}})
    expect(result.hint).toMatch(/asymmetric routing/)
    expect(result.hint).toMatch(/only one direction/)
  })

  it('fails with the RST frame when the client reset instead of acknowledging', () => {
    const facts = synAckNeverAcknowledged()
    const rst = {frame: 3, ts: facts.tcp.synAck!.ts + 0.00007, from: 'client' as const}
    facts.tcp.rst = [rst]
    // Even when the capture stops right after, the client's RST is the answer.
    facts.captureEndTs = rst.ts
    const result = checkTcpAck(facts)
    expect(result.status).toBe('fail')
    expect(result.summary).toBe('SYN-ACK (frame 2) never acknowledged: the client did not complete the handshake; the client answered with RST (frame 3)')
    expect(result.evidence).toEqual({frames: [2, 3], values: {synAckRetransmissions: 0, clientRst: true}})
    expect(result.hint).toMatch(/client reset the connection/)
  })

  it('ignores a server RST when looking for the client answer', () => {
    const facts = synAckNeverAcknowledged()
    facts.tcp.rst = [{frame: 4, ts: facts.tcp.synAck!.ts + 5, from: 'server'}]
    facts.captureEndTs = facts.tcp.synAck!.ts + 10
    const result = checkTcpAck(facts)
    expect(result.status).toBe('fail')
    expect(result.evidence.values?.clientRst).toBe(false)
  })

  it('warns when the capture ended within 1 s of the SYN-ACK', () => {
    const facts = synAckNeverAcknowledged()
    facts.captureEndTs = facts.tcp.synAck!.ts + 0.1
    const result = checkTcpAck(facts)
    expect(result.status).toBe('warn')
    expect(result.summary).toBe("capture ended 100 ms after the SYN-ACK, before the client's ACK could be seen")
    expect(result.evidence).toEqual({frames: [2], values: {captureTailMs: 100}})
  })

  it('fails a refused connection: no handshake to complete (fixtures/tcp/refused)', () => {
    const result = checkTcpAck(refused())
    expect(result.status).toBe('fail')
    expect(result.summary).toBe('no handshake to complete: the server refused the connection (RST in frame 2)')
    expect(result.evidence.frames).toEqual([1, 2])
    expect(result.hint).toMatch(/tcp\.syn-ack/)
  })

  it('fails unanswered SYNs: no handshake to complete (fixtures/tcp/filtered, ssh2.pcapng stream 6)', () => {
    const result = checkTcpAck(filtered())
    expect(result.status).toBe('fail')
    expect(result.summary).toBe('no handshake to complete: 4 SYNs unanswered, no SYN-ACK')
    expect(result.evidence.frames).toEqual([1, 2, 3, 4])
    expect(checkTcpAck(unansweredInLongCapture()).summary).toBe('no handshake to complete: 5 SYNs unanswered, no SYN-ACK')
  })

  it('skips when the capture ended within 1 s of a lone SYN', () => {
    const facts = refused()
    delete facts.tcp.rstToSyn
    facts.captureEndTs = facts.tcp.syn!.ts + 0.5
    const result = checkTcpAck(facts)
    expect(result.status).toBe('skip')
    expect(result.summary).toBe('no handshake to complete: capture ended 500 ms after the SYN')
  })

  it('skips a connection captured mid-stream (fixtures/tcp/midstream)', () => {
    const result = checkTcpAck(midstream())
    expect(result.status).toBe('skip')
    expect(result.summary).toBe('no SYN: capture started after the connection opened, so the handshake is not in it')
  })
})
