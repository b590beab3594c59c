/**
 * ws.upgrade and ws.session on facts from real captures.
 *
 * 1. fixtures/wss/* through the whole analysis (TLS 1.3 with mTLS, node `ws` and Python
 *    websockets), without keys (inferred from record sizes) and with keys.log (observed). What
 *    each capture holds was read with tshark by the fixture's make.sh and is quoted in its
 *    README: 101 / 403, the close codes, the pings and pongs, who sent FIN and RST, and the
 *    client's first record after its Finished (182 bytes from node, 223 from Python).
 * 2. fixtures/ws cleartext streams (test/protocols/websocket/streams.json, tshark's segments) fed to the
 *    readers directly, whole or cut where a real session can end, to reach the other branches.
 */
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import {withDerivedFacts} from '../../src/analysis/derive.js'
import {checkWsSession} from '../../src/checks/ws-session.js'
import {checkWsUpgrade} from '../../src/checks/ws-upgrade.js'
import {WebSocketConnectionReader} from '../../src/protocols/websocket/connection.js'
import {loadKeyStore} from '../../src/keys/store.js'
import {connectionFacts} from './tcp-facts.js'
import {capture, chunks, feed, type Chunk} from '../protocols/websocket/streams.js'

const policy = buildPolicy({console: 'console.test'})

async function analyzed(name: string, withKeys: boolean, file = 'capture.pcap'): Promise<ConnectionFacts> {
  const dir = `fixtures/wss/${name}`
  const keys = withKeys ? (await loadKeyStore([`${dir}/keys.log`])).store : undefined
  const report = await analyzeCapture(`${dir}/${file}`, {policy, keys})
  expect(report.connections).toHaveLength(1)
  return report.connections[0].facts as ConnectionFacts
}

describe('ws checks on fixtures/wss without keys (inferred from TLS 1.3 record sizes)', () => {
  it('node-mtls: the 182-byte request is answered and both sides go on: upgrade and session pass, inferred', async () => {
    const facts = await analyzed('node-mtls', false)
    const upgrade = checkWsUpgrade(facts)
    expect([upgrade.status, upgrade.confidence]).toEqual(['pass', 'inferred'])
    expect(upgrade.evidence.values?.requestRecordBytes).toBe(182)
    const session = checkWsSession(facts)
    expect([session.status, session.confidence]).toEqual(['pass', 'inferred'])
    expect(session.summary).toContain('FIN from the server and the client')
  })

  it('python-client: the 223-byte request (sent alone, tickets after it) is recognised too', async () => {
    const facts = await analyzed('python-client', false)
    const upgrade = checkWsUpgrade(facts)
    expect([upgrade.status, upgrade.confidence]).toEqual(['pass', 'inferred'])
    expect(upgrade.evidence.values?.requestRecordBytes).toBe(223)
    expect(checkWsSession(facts).status).toBe('pass')
  })

  it('refused-403: the server answers and closes at once: upgrade fails (inferred), no session', async () => {
    const facts = await analyzed('refused-403', false)
    const upgrade = checkWsUpgrade(facts)
    expect([upgrade.status, upgrade.confidence]).toEqual(['fail', 'inferred'])
    expect(upgrade.summary).toContain('likely a refused upgrade')
    expect(upgrade.summary).toContain('the server sent a close (FIN)')
    expect(upgrade.evidence.values).toMatchObject({clientRecordsAfter: 0, serverRecordsAfter: 0})
    expect(checkWsSession(facts).status).toBe('skip')
  })

  it('no-pong: the client resets the connection mid-session: session fails (inferred)', async () => {
    const facts = await analyzed('no-pong', false)
    expect(checkWsUpgrade(facts).status).toBe('pass')
    const session = checkWsSession(facts)
    expect([session.status, session.confidence]).toEqual(['fail', 'inferred'])
    expect(session.summary).toContain('the client reset the connection (RST')
  })

  it('close-1011: the close code is encrypted, so the session passes as inferred and says to give --keylog', async () => {
    const session = checkWsSession(await analyzed('close-1011', false))
    expect([session.status, session.confidence]).toEqual(['pass', 'inferred'])
    expect(session.summary).toContain('give --keylog')
  })
})

describe('ws checks on fixtures/wss with keys.log (observed)', () => {
  it('node-mtls: 101 with a correct accept; 3 pings answered, close 1000 from the client answered by the server', async () => {
    const facts = await analyzed('node-mtls', true)
    const upgrade = checkWsUpgrade(facts)
    expect([upgrade.status, upgrade.confidence]).toEqual(['pass', 'observed'])
    expect(upgrade.summary).toMatch(/^GET \/defender\/ws with Upgrade: websocket answered 101 Switching Protocols \(frame \d+\), Sec-WebSocket-Accept correct \[decrypted\]$/)
    const session = checkWsSession(facts)
    expect([session.status, session.confidence]).toEqual(['pass', 'observed'])
    expect(session.evidence.values).toMatchObject({pings: 3, pingsAnswered: 3, pingsUnanswered: 0, cleanClose: true, close: {client: {code: 1000, reason: 'bye'}, server: {code: 1000}}})
    expect(session.summary).toContain('closed by the client with 1000 normal closure "bye"')
  })

  it('node-mtls-dsb: the same verdicts from the secrets embedded in the pcapng, no key log given', async () => {
    const facts = await analyzed('node-mtls-dsb', false, 'capture-dsb.pcapng')
    expect([checkWsUpgrade(facts).status, checkWsUpgrade(facts).confidence]).toEqual(['pass', 'observed'])
    expect(checkWsSession(facts).evidence.values).toMatchObject({pingsAnswered: 3, cleanClose: true})
  })

  it('refused-403: the upgrade fails naming 403 Forbidden; the session is skipped', async () => {
    const facts = await analyzed('refused-403', true)
    const upgrade = checkWsUpgrade(facts)
    expect([upgrade.status, upgrade.confidence]).toEqual(['fail', 'observed'])
    expect(upgrade.summary).toContain('was answered 403 Forbidden')
    expect(upgrade.evidence.values).toMatchObject({status: 403, path: '/defender/ws'})
    expect(upgrade.hint).toContain('refused this Defender')
    expect(checkWsSession(facts).status).toBe('skip')
  })

  it('no-pong: 3 client pings unanswered and a TCP close without a close frame', async () => {
    const session = checkWsSession(await analyzed('no-pong', true))
    expect([session.status, session.confidence]).toEqual(['fail', 'observed'])
    expect(session.summary).toContain('3 pings unanswered (3 from the client')
    expect(session.summary).toContain('the client closed the TCP connection (FIN')
    expect(session.summary).toContain('abnormal closure (1006)')
    expect(session.hint).toContain('the server stopped answering pings')
  })

  it('close-1011: the server closed with 1011 internal error', async () => {
    const session = checkWsSession(await analyzed('close-1011', true))
    expect([session.status, session.confidence]).toEqual(['fail', 'observed'])
    expect(session.summary).toContain('the server closed the session with 1011 internal error "internal error"')
  })

  it('python-client: Python websockets passes both, its ping answered', async () => {
    const facts = await analyzed('python-client', true)
    expect(checkWsUpgrade(facts).status).toBe('pass')
    const session = checkWsSession(facts)
    expect(session.status).toBe('pass')
    // The client's ping "py-ping" and the server's "srv-ping", both answered (tshark: opcodes 9 and 10 twice).
    expect(session.evidence.values).toMatchObject({pings: 2, pingsAnswered: 2, close: {client: {code: 1000}}})
  })
})

/** Facts from the readers fed directly with a fixtures/ws stream (127.0.0.50 / .51 → :8085). */
function readerFacts(name: string, list: Chunk[], tcp: {fin?: Array<{frame: number; from: 'client' | 'server'}>; endTs?: number} = {}): ConnectionFacts {
  const reader = new WebSocketConnectionReader()
  feed(reader, list)
  const first = list[0]
  const last = list[list.length - 1]
  const endTs = tcp.endTs ?? last.ts
  const facts = connectionFacts({ip: '127.0.0.1', port: 59910}, {ip: name === 'cleartext' ? '127.0.0.50' : '127.0.0.51', port: 8085}, {
    firstFrame: 1, lastFrame: last.frame, startTs: first.ts, endTs, syn: {frame: 1, ts: first.ts}, ack: {frame: 3, ts: first.ts},
    fin: (tcp.fin ?? []).map((f) => ({...f, ts: endTs})),
  }, endTs)
  const {http, ws} = reader.facts
  facts.http = http
  if (ws) facts.ws = ws
  return withDerivedFacts(facts)
}

describe('ws checks on the readers fed with fixtures/ws cleartext streams', () => {
  it('cleartext: upgrade passes (observed, no [decrypted] tag); the session fails on the server close 1011 (frame 32)', () => {
    // tshark (fixtures/ws/cleartext/README.md): server FIN frame 34, client FIN frame 35.
    const facts = readerFacts('cleartext', chunks(capture('cleartext')), {fin: [{frame: 34, from: 'server'}, {frame: 35, from: 'client'}]})
    const upgrade = checkWsUpgrade(facts)
    expect([upgrade.status, upgrade.confidence, upgrade.evidence.frames]).toEqual(['pass', 'observed', [4, 6]])
    expect(upgrade.summary).not.toContain('[decrypted]')
    const session = checkWsSession(facts)
    expect(session.status).toBe('fail')
    expect(session.summary).toContain('the server closed the session with 1011 internal error "server error" (frame 32)')
    expect(session.evidence.values).toMatchObject({pings: 2, pingsAnswered: 2, cleanClose: true})
  })

  it('python-client: permessage-deflate session, close 1011 from the server (frame 25, tshark: websocket.opcode == 8 from port 8085)', () => {
    const session = checkWsSession(readerFacts('python-client', chunks(capture('python-client'))))
    expect(session.status).toBe('fail')
    expect(session.summary).toContain('1011 internal error')
    expect(session.summary).toContain('(frame 25)')
  })

  it('a capture that ends with the session open passes and says so (cleartext cut before the client ping, frame 29)', () => {
    const list = chunks(capture('cleartext')).filter((c) => c.frame < 29)
    const session = checkWsSession(readerFacts('cleartext', list))
    expect([session.status, session.confidence]).toEqual(['pass', 'observed'])
    expect(session.summary).toContain('1 ping answered')
    expect(session.summary).toContain('still open when the capture ended')
  })

  it('a ping the capture ends right after is awaiting, not unanswered; one the session ended after is unanswered', () => {
    // Cut after the client's ping (frame 29), before the server's pong (frame 30).
    const list = chunks(capture('cleartext')).filter((c) => c.frame <= 29)
    expect(checkWsSession(readerFacts('cleartext', list)).summary).toContain('1 ping sent just before the capture ended')
    const ended = checkWsSession(readerFacts('cleartext', list, {fin: [{frame: 36, from: 'client'}]}))
    expect(ended.status).toBe('fail')
    expect(ended.summary).toContain('1 ping unanswered (1 from the client; the first in frame 29')
    expect(ended.summary).toContain('the client closed the TCP connection (FIN, frame 36) without a WebSocket close frame')
  })

  it('the request with no response: fail when the server closed, warn when the capture just ended', () => {
    const list = chunks(capture('cleartext')).filter((c) => c.frame === 4)
    const closed = checkWsUpgrade(readerFacts('cleartext', list, {fin: [{frame: 5, from: 'server'}]}))
    expect([closed.status, closed.summary]).toEqual(['fail', 'GET /defender/ws with Upgrade: websocket (frame 4) got no response: the server sent a close (FIN) (frame 5)'])
    expect(checkWsUpgrade(readerFacts('cleartext', list)).status).toBe('warn')
  })

  it('an unmasked client frame after the real upgrade is a protocol violation', () => {
    // RFC 6455 §5.7: "A single-frame unmasked text message 0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f (contains "Hello")".
    const list = chunks(capture('cleartext')).filter((c) => c.frame <= 6)
    list.push({direction: 'c2s', frame: 7, ts: list[1].ts + 0.001, bytes: Uint8Array.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])})
    const session = checkWsSession(readerFacts('cleartext', list))
    expect(session.status).toBe('fail')
    expect(session.summary).toContain('WebSocket protocol violation: client sent an unmasked frame (RFC 6455 §5.1) (frame 7)')
  })
})
