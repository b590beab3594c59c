/**
 * The protocol chain's registry (src/protocols/): the chain the readers, the ladder and the probe
 * follow, and a protocol added as one registration reaching the connection's facts.
 */
import {describe, expect, it} from 'vitest'
import {ConnectionReaders} from '../../src/analysis/connection-readers.js'
import {attachedTo, PROTOCOL_CHAIN, PROTOCOLS, protocolNames, TCP} from '../../src/protocols/index.js'
import {defineProtocol} from '../../src/protocols/registry.js'
import type {Direction, FrameRef, StreamHandler} from '../../src/stream/types.js'

declare module '../../src/protocols/registry.js' {
  interface ProtocolFactsByName {
    /** Test-only: a line protocol recognised by "PING ". */
    demo: {c2sBytes: number}
  }
}

const ref: FrameRef = {frame: 1, ts: 0}
const bytes = (text: string) => new TextEncoder().encode(text)

/** The test's protocol: counts the client's bytes; one module's worth, registered in one line below. */
class DemoReader implements StreamHandler {
  c2sBytes = 0
  data(direction: Direction, chunk: Uint8Array): void {
    if (direction === 'c2s') this.c2sBytes += chunk.length
  }
}
const demoProtocol = defineProtocol({
  name: 'demo',
  attaches: [{to: TCP, recognise: (first) => new TextDecoder().decode(first.subarray(0, 5)) === 'PING '}],
  reader: () => new DemoReader(),
  facts: (reader) => ({c2sBytes: reader.c2sBytes}),
  issues: () => ({issues: [], omitted: 0}),
})

describe('protocol registry', () => {
  it('chains proxy preamble → TLS → HTTP upgrade → WebSocket, each named by its facts key', () => {
    expect(protocolNames()).toEqual(['proxy', 'tls', 'http', 'ws'])
    const children = (tag: Parameters<typeof attachedTo>[1]) => attachedTo(PROTOCOLS, tag).map(({protocol, attachment}) => `${protocol.name}${attachment.sniffs ? ' sniffs' : ''}${attachment.fallback ? ' fallback' : ''}${attachment.handedOver ? ' handed-over' : ''}`)
    expect(children(TCP)).toEqual(['proxy sniffs', 'tls fallback', 'http'])
    expect(children('proxy')).toEqual([])
    expect(children('tls')).toEqual(['http'])
    expect(children('http')).toEqual(['ws handed-over'])
    expect(children('ws')).toEqual([])
  })

  it('works out every payload route once, from the attachments: what each connection follows', () => {
    const name = (index: number | undefined) => (index === undefined ? undefined : PROTOCOLS[index].name)
    const routeOf = (protocol: string) => PROTOCOL_CHAIN.payloadOf[PROTOCOLS.findIndex((p) => p.name === protocol)]
    const tcp = PROTOCOL_CHAIN.tcp
    expect(name(tcp.sniffer?.protocol)).toBe('proxy')
    // The proxy preamble passes the stream (or its tunnel) on to what else is attached to TCP.
    const afterProxy = tcp.sniffer!.next
    expect(afterProxy.sniffer).toBeUndefined()
    expect(afterProxy.candidates.map((candidate) => name(candidate.protocol))).toEqual(['tls', 'http'])
    expect(name(afterProxy.fallback)).toBe('tls')
    expect(name(routeOf('tls').direct)).toBe('http')
    expect(name(routeOf('http').direct)).toBe('ws')
    expect(routeOf('ws')).toEqual({candidates: []})
  })

  it('sends a cleartext upgrade to HTTP and, after the 101, to WebSocket; TLS is never made', () => {
    const readers = new ConnectionReaders()
    readers.stream.data('c2s', bytes('GET /ws HTTP/1.1\r\nHost: console\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'), ref)
    readers.stream.data('s2c', bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n'), {frame: 2, ts: 0.001})
    readers.stream.data('s2c', Uint8Array.of(0x89, 0x00), {frame: 3, ts: 0.002})
    const facts = readers.facts()
    expect(facts.tls).toBeUndefined()
    expect(facts.http?.response?.acceptValid).toBe(true)
    expect(facts.ws?.pings).toHaveLength(1)
  })

  it('reaches a protocol added as one registration: its reader is chosen by its first bytes and its facts appear under its name', () => {
    const withDemo = new ConnectionReaders({protocols: [...PROTOCOLS, demoProtocol]})
    withDemo.stream.data('c2s', bytes('PING hello\n'), ref)
    const facts = withDemo.facts()
    expect(facts.demo).toEqual({c2sBytes: 11})
    expect(facts.tls).toBeUndefined()
    // Without it the same bytes go to TLS, which says they are not TLS.
    const without = new ConnectionReaders()
    without.stream.data('c2s', bytes('PING hello\n'), ref)
    expect(without.facts().demo).toBeUndefined()
    expect(without.facts().tls?.notTls).toBeDefined()
  })
})
