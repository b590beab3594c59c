/**
 * When keys do not fit: real fixture connections (test/protocols/tls/vectors.json) read with the wrong
 * secrets, with a key log that lacks the session, and with a ClientHello altered in flight (a
 * tampered transcript). The reader must say so (issues, TlsFacts.decryption / finished) and fall
 * back to exactly what it reads without keys; the checks must go back to their no-keys verdicts
 * (fixtures/tls/NAME/expected.json, top level) or fail tls.finished naming the side.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../../src/analysis/analyze.js'
import {loadCaBundle} from '../../../src/analysis/cert-policy.js'
import {buildPolicy} from '../../../src/analysis/policy.js'
import {isCaptureFacts} from '../../../src/model/report.js'
import {checkTlsFinished} from '../../../src/checks/tls-finished.js'
import {TlsConnectionReader} from '../../../src/protocols/tls/connection.js'
import type {TlsFacts} from '../../../src/protocols/tls/types.js'
import {parseKeyLog, type KeyLog} from '../../../src/keys/keylog.js'
import {KeyStore, type KeyLookup} from '../../../src/keys/store.js'
import {FIXTURES, ROOT} from '../../helpers/paths.js'
import {directionOf, streamVector} from './streams.js'
import {fromHex} from './vectors.js'

const TLS_FIXTURES = join(FIXTURES, 'tls')
const keyLogText = (name: string) => readFileSync(join(TLS_FIXTURES, name, 'keys.log'), 'utf8')
const store = (log: KeyLog): KeyStore => {
  const keys = new KeyStore()
  keys.addFile('test', log)
  return keys
}

/** The client random of a fixture's key log (each fixture has one session). */
function clientRandomOf(name: string): string {
  const randoms = [...parseKeyLog(keyLogText(name), name).sessions.keys()]
  expect(randoms).toHaveLength(1)
  return randoms[0]!
}

/** openssl13-mtls's real secrets filed under hello-retry's client random: right session, wrong keys. */
const wrongKeys = parseKeyLog(keyLogText('openssl13-mtls').replaceAll(clientRandomOf('openssl13-mtls'), clientRandomOf('hello-retry')), 'wrong')

function read(name: string, keys?: KeyLookup, alter?: (segment: number, bytes: Uint8Array) => void): {facts: TlsFacts; issues: TlsConnectionReader['issues']} {
  const s = streamVector(`${name}/capture.pcap`)
  const reader = new TlsConnectionReader(keys ? {keys} : {})
  s.segments.forEach((g, i) => {
    const bytes = fromHex(g.hex)
    alter?.(i, bytes)
    reader.data(directionOf(s, g.srcPort), bytes, {frame: g.frame, ts: g.ts})
  })
  return {facts: reader.facts(), issues: reader.issues}
}

function withoutDecryption(facts: TlsFacts): TlsFacts {
  const {decryption: _decryption, finished: _finished, ...rest} = facts
  return rest as TlsFacts
}

describe('wrong keys for the session (bad AEAD tag)', () => {
  const plain = read('hello-retry')
  const wrong = read('hello-retry', store(wrongKeys))

  it('reports the failure once per direction and stops decrypting', () => {
    expect(wrong.issues.map((i) => [i.code, i.severity, i.frame])).toEqual([
      ['tls.decrypt-failed', 'warn', 9],
      ['tls.decrypt-failed', 'warn', 10],
    ])
    expect(wrong.issues[0]!.message).toContain('(bad-tag)')
    expect(wrong.facts.decryption).toEqual({keys: 'found', records: 0, failures: 2, firstFailure: {frame: 9, code: 'bad-tag'}})
    expect(wrong.facts.finished).toBeUndefined()
  })

  it('falls back to exactly the facts read without keys', () => {
    expect(plain.facts.decryption).toBeUndefined()
    expect(withoutDecryption(wrong.facts)).toEqual(plain.facts)
  })

  it('gives the no-keys verdicts', async () => {
    const expected = JSON.parse(readFileSync(join(TLS_FIXTURES, 'hello-retry', 'expected.json'), 'utf8')) as {
      connections: Array<{checks: Record<string, {status: string; confidence: string}>}>
    }
    const report = await analyzeCapture(join(TLS_FIXTURES, 'hello-retry', 'capture.pcap'), {
      policy: buildPolicy({console: 'console.test', caFile: join(ROOT, 'fixtures/certs/console-ca.pem')}),
      certificates: {ca: loadCaBundle(join(ROOT, 'fixtures/certs/console-ca.pem'))},
      keys: store(wrongKeys),
    })
    const checks = report.connections[0]!.checks
    for (const [id, want] of Object.entries(expected.connections[0]!.checks)) {
      const got = checks.find((c) => c.id === id)
      expect({id, status: got?.status, confidence: got?.confidence}, got?.summary).toEqual({id, ...want})
    }
  })
})

describe('a key log without this session', () => {
  it('says the keys are missing and reads as without keys', () => {
    const plain = read('openssl13-mtls')
    const other = read('openssl13-mtls', store(parseKeyLog(keyLogText('hello-retry'), 'other')))
    expect(other.issues).toEqual([])
    expect(other.facts.decryption).toEqual({keys: 'missing', records: 0, failures: 0})
    expect(withoutDecryption(other.facts)).toEqual(plain.facts)
  })
})

describe('when the keys arrive', () => {
  it('no key log at all: keys none', () => {
    const none = read('openssl13-mtls', new KeyStore())
    expect(none.issues).toEqual([])
    expect(none.facts.decryption).toEqual({keys: 'none', records: 0, failures: 0})
  })

  it('keys added after the ClientHello (a pcapng Decryption Secrets Block later in the file) still serve', () => {
    const keys = new KeyStore()
    const late = read('hello-retry', keys, (segment) => {
      if (segment === 1) keys.addFile('late', parseKeyLog(keyLogText('hello-retry'), 'late'))
    })
    expect(late.issues).toEqual([])
    expect(late.facts.decryption).toEqual({keys: 'found', records: 14, failures: 0})
    expect(late.facts.finished).toEqual({server: expect.objectContaining({frame: 9, verified: true}), client: expect.objectContaining({frame: 10, verified: true})})
  })
})

describe('a ClientHello altered in flight (tampered transcript)', () => {
  // The first byte of legacy_session_id: 5 (record header) + 4 (handshake header) + 2 (legacy_version)
  // + 32 (random) + 1 (session id length) into the client's first segment (RFC 8446 §4.1.2). The
  // record keys come from the key log, so records still decrypt, but neither Finished can verify.
  const SESSION_ID_OFFSET = 44
  const tampered = read('openssl13-mtls', store(parseKeyLog(keyLogText('openssl13-mtls'), 'k')), (segment, bytes) => {
    if (segment === 0) bytes[SESSION_ID_OFFSET]! ^= 0x01
  })

  it('still decrypts, and finds both Finished wrong', () => {
    expect(tampered.facts.clientHellos[0]!.sessionIdLength).toBe(32)
    expect(tampered.facts.decryption).toEqual({keys: 'found', records: 14, failures: 0})
    expect(tampered.facts.finished).toEqual({server: expect.objectContaining({frame: 6, verified: false}), client: expect.objectContaining({frame: 8, verified: false})})
    expect(tampered.issues.map((i) => [i.code, i.frame])).toEqual([
      ['tls.finished-mismatch', 6],
      ['tls.finished-mismatch', 8],
    ])
  })
})

describe('tls.finished names the side whose Finished did not verify', () => {
  it.each([
    ['client', {server: true, client: false}, "the client's Finished (frame 8) does not verify"],
    ['server', {server: false, client: true}, "the server's Finished (frame 6) does not verify"],
    ['both', {server: false, client: false}, "neither the server's nor the client's Finished verifies"],
  ] as const)('%s', async (_name, verified, summary) => {
    const report = await analyzeCapture(join(TLS_FIXTURES, 'openssl13-mtls', 'capture.pcap'), {
      policy: buildPolicy({console: 'console.test'}),
      keys: store(parseKeyLog(keyLogText('openssl13-mtls'), 'k')),
    })
    const facts = report.connections[0]!.facts
    if (!isCaptureFacts(facts)) throw new Error('capture analysis gave probe facts')
    const finished = facts.tls!.finished!
    expect(checkTlsFinished(facts)).toMatchObject({status: 'pass', confidence: 'observed'})
    finished.server!.verified = verified.server
    finished.client!.verified = verified.client
    const result = checkTlsFinished(facts)
    expect(result).toMatchObject({status: 'fail', confidence: 'observed', evidence: {frames: [6, 8]}})
    expect(result.summary).toContain(summary)
  })
})
