/**
 * Record protection on real TLS 1.3 sessions: openssl s_server/s_client with
 * TLS_CHACHA20_POLY1305_SHA256 and TLS_AES_256_GCM_SHA384, both with a KeyUpdate each way
 * (chacha20.json, aes256.json), and the hello-retry and openssl13-mtls fixtures (HelloRetryRequest,
 * client certificates). Each JSON holds the TCP payload of each direction, the client's key log,
 * and what tshark decrypted with that key log: every expectation below comes from tshark or from
 * the key log, never from this code (see make-chacha.sh).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {nextTrafficSecret, TLS13_CIPHER_SUITES} from '../../../../src/protocols/tls/crypto/key-schedule.js'
import {verifyFinished} from '../../../../src/protocols/tls/crypto/finished.js'
import {TranscriptHash} from '../../../../src/protocols/tls/crypto/transcript-hash.js'
import {HELLO_RETRY_REQUEST_RANDOM} from '../../../../src/protocols/tls/server-hello.js'
import {parseKeyLog, type SessionSecrets} from '../../../../src/keys/keylog.js'
import {ROOT} from '../../../helpers/paths.js'
import {replayDirection, type ReplayedMessage} from './replay.js'

interface CaptureJson {
  source: string
  cipherSuite: number
  clientRandom: string
  keylog: string
  c2s: string
  s2c: string
  tshark: Record<'c2s' | 's2c', {contentTypes: number[]; handshakeTypes: number[]; applicationData: string[]}>
}

const HERE = join(ROOT, 'test', 'protocols', 'tls', 'crypto')
const load = (name: string): CaptureJson => JSON.parse(readFileSync(join(HERE, `${name}.json`), 'utf8')) as CaptureJson
const bytes = (hexText: string): Uint8Array => Uint8Array.from(Buffer.from(hexText, 'hex'))
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

function sessionOf(capture: CaptureJson): SessionSecrets {
  const log = parseKeyLog(capture.keylog, capture.source)
  expect(log.issues).toEqual([])
  const session = log.sessions.get(capture.clientRandom)
  if (!session) throw new Error(`no key log entry for ClientHello random ${capture.clientRandom}`)
  return session
}

function replay(capture: CaptureJson) {
  const s = sessionOf(capture)
  return {
    c2s: replayDirection(bytes(capture.c2s), capture.cipherSuite, s.clientHandshakeTrafficSecret!, s.clientTrafficSecret0!),
    s2c: replayDirection(bytes(capture.s2c), capture.cipherSuite, s.serverHandshakeTrafficSecret!, s.serverTrafficSecret0!),
  }
}

const isHelloRetryRequest = (m: ReplayedMessage): boolean =>
  m.type === 2 && Buffer.from(m.body.subarray(2, 34)).toString('hex') === HELLO_RETRY_REQUEST_RANDOM

/**
 * Verify both Finished messages (RFC 8446 §4.4.4) with the transcript of §4.4.1, in the order a
 * TLS 1.3 handshake interleaves the directions: ClientHello [HRR ClientHello2] ServerHello ...
 * server Finished, then the client's Certificate/CertificateVerify/Finished.
 */
function verifyBothFinished(capture: CaptureJson, client: ReplayedMessage[], server: ReplayedMessage[]): {server: boolean; client: boolean} {
  const session = sessionOf(capture)
  const suite = TLS13_CIPHER_SUITES.get(capture.cipherSuite)!
  const transcript = new TranscriptHash()
  const add = (m: ReplayedMessage): void => transcript.addMessage(m.type, m.body)
  let c = 0
  let s = 0
  add(client[c++]!)
  transcript.setHash(suite.hash)
  if (isHelloRetryRequest(server[s]!)) {
    transcript.helloRetryRequest()
    add(server[s++]!)
    add(client[c++]!)
  }
  while (server[s]!.type !== 20) add(server[s++]!)
  const serverOk = verifyFinished(suite, session.serverHandshakeTrafficSecret!, transcript.digest(), server[s]!.body)
  add(server[s]!)
  while (client[c]!.type !== 20) add(client[c++]!)
  const clientOk = verifyFinished(suite, session.clientHandshakeTrafficSecret!, transcript.digest(), client[c]!.body)
  return {server: serverOk, client: clientOk}
}

describe.each(['chacha20', 'aes256', 'hello-retry', 'openssl13-mtls'])('%s', (name) => {
  const capture = load(name)

  it('the server\'s first protected record is EncryptedExtensions (handshake type 8)', () => {
    const {s2c} = replay(capture)
    expect(s2c.firstProtected?.contentType).toBe(22)
    expect(s2c.firstProtected?.plaintext[0]).toBe(8)
  })

  it('decrypts every record to the content types, handshake messages and data tshark shows', () => {
    const replayed = replay(capture)
    for (const direction of ['c2s', 's2c'] as const) {
      const seen = replayed[direction]
      const expected = capture.tshark[direction]
      expect(seen.contentTypes).toEqual(expected.contentTypes)
      expect(seen.messages.map((m) => m.type)).toEqual(expected.handshakeTypes)
      expect(seen.applicationData.map(text)).toEqual(expected.applicationData)
    }
  })

  it('verifies both Finished messages over the transcript (with message_hash after a HelloRetryRequest)', () => {
    const {c2s, s2c} = replay(capture)
    expect(verifyBothFinished(capture, c2s.messages, s2c.messages)).toEqual({server: true, client: true})
  })
})

describe('HelloRetryRequest transcript (RFC 8446 §4.4.1)', () => {
  it('without the message_hash substitution the server Finished does not verify', () => {
    const capture = load('hello-retry')
    const {c2s, s2c} = replay(capture)
    expect(isHelloRetryRequest(s2c.messages[0]!)).toBe(true)
    const session = sessionOf(capture)
    const suite = TLS13_CIPHER_SUITES.get(capture.cipherSuite)!
    const naive = new TranscriptHash(suite.hash)
    const serverFinished = s2c.messages.findIndex((m) => m.type === 20)
    for (const m of [c2s.messages[0]!, s2c.messages[0]!, c2s.messages[1]!, ...s2c.messages.slice(1, serverFinished)]) naive.addMessage(m.type, m.body)
    expect(verifyFinished(suite, session.serverHandshakeTrafficSecret!, naive.digest(), s2c.messages[serverFinished]!.body)).toBe(false)
  })
})

describe('KeyUpdate (RFC 8446 §7.2)', () => {
  it.each(['chacha20', 'aes256'])('%s: "traffic upd" gives the *_TRAFFIC_SECRET_N OpenSSL logged after the update', (name) => {
    const capture = load(name)
    const session = sessionOf(capture)
    const suite = TLS13_CIPHER_SUITES.get(capture.cipherSuite)!
    // OpenSSL's own (non-standard) labels for the updated secrets; the parser counts them as unknown.
    const logged = (label: string): string => capture.keylog.split('\n').find((l) => l.startsWith(label + ' '))!.split(' ')[2]!
    expect(Buffer.from(nextTrafficSecret(suite, session.clientTrafficSecret0!)).toString('hex')).toBe(logged('CLIENT_TRAFFIC_SECRET_N'))
    expect(Buffer.from(nextTrafficSecret(suite, session.serverTrafficSecret0!)).toString('hex')).toBe(logged('SERVER_TRAFFIC_SECRET_N'))
  })
})
