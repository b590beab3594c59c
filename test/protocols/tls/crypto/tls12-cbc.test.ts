/**
 * TLS 1.2 CBC record protection (RFC 5246 §6.2.3.2; encrypt-then-MAC, RFC 7366), issue 15.
 *
 * - The Illustrated TLS 1.2 capture (syncsynchalt/illustrated-tls12, every byte annotated at
 *   https://tls12.xargs.org): TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, MAC-then-encrypt, read from
 *   the peers corpus beside the repository (skipped, with one line saying so, when absent). The
 *   site's annotations: five protected records (the client's Finished and "ping", the server's
 *   Finished and "pong", the client's close_notify).
 * - The fixtures fixtures/tls/openssl12-cbc-{etm,mte,sha384} (real openssl sessions; that
 *   tshark decrypts them the same way is test/protocols/tls/decrypt-fixtures.test.ts): a byte altered in a
 *   protected record fails its MAC or padding ('bad-tag'), in each mode.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../../../src/analysis/analyze.js'
import {buildPolicy} from '../../../../src/analysis/policy.js'
import {isCaptureFacts} from '../../../../src/model/report.js'
import {TlsConnectionReader} from '../../../../src/protocols/tls/connection.js'
import {parseKeyLog} from '../../../../src/keys/keylog.js'
import {KeyStore} from '../../../../src/keys/store.js'
import {FIXTURES, PEERS, PEERS_ABSENT} from '../../../helpers/paths.js'
import {describeWhen} from '../../../helpers/skip.js'
import {directionOf, streamVector} from '../streams.js'
import {fromHex} from '../vectors.js'

const ILLUSTRATED = join(PEERS, 'captures', 'illustrated-tls12.pcap')
const ILLUSTRATED_KEYS = join(PEERS, 'keys', 'illustrated-tls12.keylog')
const haveIllustrated = existsSync(ILLUSTRATED) && existsSync(ILLUSTRATED_KEYS)

function keyStore(path: string): KeyStore {
  const keys = new KeyStore()
  keys.addFile(path, parseKeyLog(readFileSync(path, 'utf8'), path))
  return keys
}

describeWhen(haveIllustrated, PEERS_ABSENT, 'the Illustrated TLS 1.2 session (AES-128-CBC-SHA, MAC-then-encrypt)', () => {
  it('decrypts every protected record, verifies both Finished, reads the close_notify', async () => {
    const report = await analyzeCapture(ILLUSTRATED, {policy: buildPolicy({ports: ['any']}), keys: keyStore(ILLUSTRATED_KEYS)})
    expect(report.connections).toHaveLength(1)
    const facts = report.connections[0]!.facts
    if (!isCaptureFacts(facts)) throw new Error('capture analysis gave probe facts')
    const tls = facts.tls!
    expect(tls.cipherSuiteName).toBe('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA')
    // The ServerHello carries renegotiation_info only: no encrypt_then_mac (22).
    expect(tls.serverHello!.extensions).toEqual([0xff01])
    // Client Finished, "ping", server Finished, "pong", close_notify: five CBC records.
    expect(tls.decryption).toEqual({keys: 'found', records: 5, failures: 0})
    expect(tls.finished).toEqual({client: expect.objectContaining({verified: true}), server: expect.objectContaining({verified: true})})
    expect(tls.alerts.map((a) => [a.from, a.descriptionName, a.decrypted])).toEqual([['client', 'close_notify', true]])
    expect(facts.issues.filter((i) => i.code.startsWith('tls.'))).toEqual([])
    expect(report.connections[0]!.checks.find((c) => c.id === 'tls.finished')).toMatchObject({status: 'pass', confidence: 'observed'})
  })
})

/** A fixture's connection through the reader with its key log, one byte of `frame`'s segment altered. */
function readAltered(name: string, frame: number | undefined): {issues: string[]; records: number | undefined; data: string[]} {
  const s = streamVector(`${name}/capture.pcap`)
  const data: string[] = []
  const reader = new TlsConnectionReader({keys: keyStore(join(FIXTURES, 'tls', name, 'keys.log')), onApplicationData: (_d, bytes) => data.push(Buffer.from(bytes).toString('latin1'))})
  for (const g of s.segments) {
    const bytes = fromHex(g.hex)
    // The last byte of the record: the MAC's (encrypt-then-MAC) or the padding_length inside the
    // last CBC block (MAC-then-encrypt).
    if (g.frame === frame) bytes[bytes.length - 1]! ^= 0x01
    reader.data(directionOf(s, g.srcPort), bytes, {frame: g.frame, ts: g.ts})
  }
  return {issues: reader.issues.map((i) => i.message), records: reader.facts().decryption?.records, data}
}

describe.each([
  {name: 'openssl12-cbc-etm', mode: 'encrypt-then-MAC: wrong MAC'},
  {name: 'openssl12-cbc-mte', mode: 'MAC-then-encrypt: wrong'},
  {name: 'openssl12-cbc-sha384', mode: 'MAC-then-encrypt: wrong'},
])('$name', ({name, mode}) => {
  it('reads both lines of application data as sent', () => {
    const got = readAltered(name, undefined)
    expect(got.issues).toEqual([])
    expect(got.data).toEqual(['hello from defender\n', 'hello from console\n'])
    expect(got.records).toBe(6)
  })

  it('a byte altered in the client\'s application data record (frame 10) fails authentication, and only that direction stops', () => {
    const got = readAltered(name, 10)
    expect(got.issues).toHaveLength(1)
    expect(got.issues[0]).toContain('cannot decrypt the record in frame 10 (bad-tag)')
    expect(got.issues[0]).toContain(mode)
    expect(got.data).toEqual(['hello from console\n'])
  })
})
