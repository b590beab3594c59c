import {describe, expect, it} from 'vitest'
import {checkTcpSynAck} from '../../src/checks/tcp-syn-ack.js'
import {completedHandshake, filtered, midstream, refused, unansweredInLongCapture} from './tcp-facts.js'

describe('tcp.syn-ack', () => {
  it('passes with the SYN-ACK frame and the SYN → SYN-ACK delay tshark shows (tcp.time_delta 0.037723)', () => {
    expect(checkTcpSynAck(completedHandshake())).toEqual({
      id: 'tcp.syn-ack',
      status: 'pass',
      confidence: 'observed',
      summary: 'server answered with SYN-ACK in frame 2, 37.7 ms after the SYN (MSS 1346, window scale 10, SACK permitted)',
      evidence: {
        frames: [1, 2],
        values: {mss: 1346, windowScale: 10, sackPermitted: true, timestamps: false, synAckRetransmissions: 0, delayMs: 37.723},
      },
    })
  })

  it('measures from the first SYN and says the client had to retry', () => {
    const facts = completedHandshake()
    const syn = facts.tcp.syn!
    // The same connection as if the first SYN had been lost: a retransmission 1 s later, answered as before.
    facts.tcp.syn = {...syn, ts: syn.ts - 1}
    facts.tcp.synRetransmissions = [{frame: 2, ts: syn.ts}]
    facts.tcp.synAck = {...facts.tcp.synAck!, frame: 3}
    const result = checkTcpSynAck(facts)
    expect(result.status).toBe('pass')
    expect(result.summary).toBe(
      'server answered with SYN-ACK in frame 3, 1038 ms after the first SYN (MSS 1346, window scale 10, SACK permitted); the client had sent the SYN 2 times',
    )
    expect(result.evidence.values?.delayMs).toBe(1037.723)
  })

  it('notes SYN-ACK retransmissions and lists their frames', () => {
    const facts = completedHandshake()
    facts.tcp.synAckRetransmissions = [{frame: 4, ts: facts.tcp.synAck!.ts + 1}]
    const result = checkTcpSynAck(facts)
    expect(result.summary).toMatch(/; the server retransmitted the SYN-ACK 1 time$/)
    expect(result.evidence.frames).toEqual([1, 2, 4])
    expect(result.evidence.values?.synAckRetransmissions).toBe(1)
  })

  it('passes on a SYN-ACK whose SYN was not captured, without a delay', () => {
    const facts = completedHandshake()
    delete facts.tcp.syn
    const result = checkTcpSynAck(facts)
    expect(result.status).toBe('pass')
    expect(result.summary).toBe('server answered with SYN-ACK in frame 2, the SYN itself was not captured, so no delay (MSS 1346, window scale 10, SACK permitted)')
    expect(result.evidence.frames).toEqual([2])
    expect(result.evidence.values).not.toHaveProperty('delayMs')
  })

  it('fails a refused connection (fixtures/tcp/refused) and names the port to check', () => {
    expect(checkTcpSynAck(refused())).toEqual({
      id: 'tcp.syn-ack',
      status: 'fail',
      confidence: 'observed',
      summary: 'connection refused: server answered the SYN with RST (frame 2)',
      evidence: {frames: [1, 2], values: {rstDelayMs: 0.011}},
      hint: 'nothing listens on 127.0.0.3:8084, or a firewall rejects it; check that the Console is running and COMMUNICATION_PORT is 8084',
    })
  })

  it('fails filtered SYNs (fixtures/tcp/filtered): 4 SYNs over 3.062471 s', () => {
    expect(checkTcpSynAck(filtered())).toEqual({
      id: 'tcp.syn-ack',
      status: 'fail',
      confidence: 'observed',
      summary: 'SYN unanswered: 4 SYNs over 3.1 s, no reply',
      evidence: {frames: [1, 2, 3, 4], values: {syns: 4, spanMs: 3062.471, captureTailMs: 0}},
      hint: 'packets to 8084 are dropped (firewall/security group) or the address is unroutable; check the path between 127.0.0.4 and 127.0.0.4',
    })
  })

  it('fails unanswered SYNs in a capture that went on 38.5 s after the last one (ssh2.pcapng stream 6)', () => {
    const result = checkTcpSynAck(unansweredInLongCapture())
    expect(result.status).toBe('fail')
    expect(result.summary).toBe('SYN unanswered: 5 SYNs over 15.0 s, no reply')
    expect(result.evidence).toEqual({frames: [102, 124, 210, 263, 460], values: {syns: 5, spanMs: 15012.102, captureTailMs: 38502.495}})
    expect(result.hint).toContain('between 172.16.225.48 and 146.112.255.155')
  })

  describe('a lone SYN (the refused capture without its RST)', () => {
    const loneSyn = (captureTailSeconds?: number) => {
      const facts = refused()
      delete facts.tcp.rstToSyn
      facts.tcp.rst = []
      facts.tcp.s2c.packets = 0
      if (captureTailSeconds === undefined) delete facts.captureEndTs
      else facts.captureEndTs = facts.tcp.syn!.ts + captureTailSeconds
      return facts
    }

    it('warns when the capture ended within the 1 s initial RTO after it', () => {
      const result = checkTcpSynAck(loneSyn(0.25))
      expect(result.status).toBe('warn')
      expect(result.summary).toBe('capture ended 250 ms after the SYN, before an answer or a retransmission could be seen')
      expect(result.evidence).toEqual({frames: [1], values: {syns: 1, captureTailMs: 250}})
      expect(result.hint).toMatch(/capture for longer/)
    })

    it('fails once the capture went on for the whole RTO', () => {
      expect(checkTcpSynAck(loneSyn(0.999)).status).toBe('warn')
      const result = checkTcpSynAck(loneSyn(1))
      expect(result.status).toBe('fail')
      expect(result.summary).toBe('SYN unanswered: 1 SYN, no reply')
      expect(result.evidence.values).toEqual({syns: 1, spanMs: 0, captureTailMs: 1000})
    })

    it('fails when the end of the capture is not known', () => {
      const result = checkTcpSynAck(loneSyn())
      expect(result.status).toBe('fail')
      expect(result.evidence.values).toEqual({syns: 1, spanMs: 0})
    })
  })

  it('skips when neither the SYN nor the SYN-ACK was captured (fixtures/tcp/midstream)', () => {
    const result = checkTcpSynAck(midstream())
    expect(result.status).toBe('skip')
    expect(result.summary).toBe('no SYN and no SYN-ACK in the capture: it started after the connection opened')
    expect(result.evidence.frames).toEqual([1])
  })
})
