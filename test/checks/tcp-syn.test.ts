import {describe, expect, it} from 'vitest'
import {checkTcpSyn} from '../../src/checks/tcp-syn.js'
import {completedHandshake, filtered, midstream, unansweredInLongCapture} from './tcp-facts.js'

describe('tcp.syn', () => {
  it('passes on the SYN of tls-alpn-h2.pcap with its options as evidence', () => {
    expect(checkTcpSyn(completedHandshake())).toEqual({
      id: 'tcp.syn',
      status: 'pass',
      confidence: 'observed',
      summary: 'client SYN to [2606:4700::6811:d209]:443 in frame 1 (MSS 1346, window scale 6, SACK permitted, timestamps)',
      evidence: {frames: [1], values: {mss: 1346, windowScale: 6, sackPermitted: true, timestamps: true, retransmissions: 0}},
    })
  })

  it('counts the retransmissions of a filtered SYN and lists their frames', () => {
    const result = checkTcpSyn(filtered())
    expect(result.status).toBe('pass')
    expect(result.summary).toBe('client SYN to 127.0.0.4:8084 in frame 1 (MSS 65495, window scale 10, SACK permitted, timestamps); sent 4 times (3 retransmissions)')
    expect(result.evidence.frames).toEqual([1, 2, 3, 4])
    expect(result.evidence.values?.retransmissions).toBe(3)
  })

  it('leaves out options the SYN did not carry (no timestamps in ssh2.pcapng stream 6)', () => {
    expect(checkTcpSyn(unansweredInLongCapture()).summary).toBe(
      'client SYN to 146.112.255.155:1 in frame 102 (MSS 1460, window scale 8, SACK permitted); sent 5 times (4 retransmissions)',
    )
  })

  it('skips a connection captured mid-stream and says what was seen first', () => {
    const result = checkTcpSyn(midstream())
    expect(result.status).toBe('skip')
    expect(result.confidence).toBe('inferred')
    expect(result.summary).toBe(
      'no SYN: capture started after the connection opened; the first packet seen is frame 1, mid-connection (client and server told apart by the Console port)',
    )
    expect(result.evidence).toEqual({frames: [1], values: {firstFrame: 1, clientBy: 'port'}})
    expect(result.hint).toMatch(/start the capture before the Defender connects/)
  })

  it('names the SYN-ACK when the capture started between the SYN and its answer', () => {
    const facts = completedHandshake()
    delete facts.tcp.syn
    facts.tcp.sawOpening = false
    facts.tcp.clientBy = 'syn-ack'
    facts.tcp.firstFrame = 2
    const result = checkTcpSyn(facts)
    expect(result.status).toBe('skip')
    expect(result.summary).toBe("no SYN: capture started after the connection opened; the first packet seen is the server's SYN-ACK (frame 2)")
    expect(result.evidence.values).toEqual({firstFrame: 2, clientBy: 'syn-ack'})
  })
})
