/**
 * A handshake message over the reader's limit (issue 15). Zeek's tls-fragmented-handshake trace
 * (peers corpus: a 340 kB Certificate with 10,000 SANs over many records and segments) is read
 * whole under the default limit; a message over the limit is named by type, length and limit,
 * and tls.certificate says so instead of "the server sent no Certificate".
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../../src/analysis/analyze.js'
import {buildPolicy} from '../../../src/analysis/policy.js'
import {isCaptureFacts} from '../../../src/model/report.js'
import {withDerivedFacts} from '../../../src/analysis/derive.js'
import {checkTlsCertificate} from '../../../src/checks/tls-certificate.js'
import {TlsConnectionReader} from '../../../src/protocols/tls/connection.js'
import {FIXTURES, PEERS, PEERS_ABSENT} from '../../helpers/paths.js'
import {describeWhen} from '../../helpers/skip.js'
import {directionOf, streamVector} from './streams.js'
import {fromHex} from './vectors.js'

const ZEEK_FRAGMENTED = join(PEERS, 'captures', 'zeek-tls-fragmented-handshake.pcap.gz')
const haveZeek = existsSync(ZEEK_FRAGMENTED)

describeWhen(haveZeek, PEERS_ABSENT, "Zeek's fragmented 340 kB Certificate", () => {
  it('is read whole: the leaf with its 10,000 SANs, and tls.certificate judges it', async () => {
    const report = await analyzeCapture(ZEEK_FRAGMENTED, {policy: buildPolicy({ports: ['any']})})
    expect(report.connections).toHaveLength(1)
    const facts = report.connections[0]!.facts
    if (!isCaptureFacts(facts)) throw new Error('capture analysis gave probe facts')
    const tls = facts.tls!
    expect(tls.oversizedHandshake).toBeUndefined()
    expect(facts.issues.filter((i) => i.code === 'tls.handshake-too-large')).toEqual([])
    const certificate = tls.handshakeMessages.find((m) => m.type === 11 && m.direction === 's2c')!
    expect(certificate.length).toBeGreaterThan(256 * 1024) // over the old limit
    const leaf = tls.serverCertificate!.certificates[0]!
    // Zeek's oracle (ssl.log / x509.log of the trace): subject CN=Bro, 10,000 SANs.
    expect(leaf.subject).toBe('CN=Bro')
    expect(leaf.sans).toHaveLength(10_000)
    expect(leaf.sha256).toBe('af4a46e989dc24078ee2a205490856e059e7f2f9d2114cec4d4c44974add9d34')
    const check = report.connections[0]!.checks.find((c) => c.id === 'tls.certificate')!
    expect(check.summary).not.toContain('sent no Certificate')
  })
})

describe('a Certificate over the limit (openssl12-mtls, read with a 1 KiB limit)', () => {
  it('is named with its length and the limit, in the issue, the facts and tls.certificate — never "the server sent no Certificate"', async () => {
    const name = 'openssl12-mtls'
    const report = await analyzeCapture(join(FIXTURES, 'tls', name, 'capture.pcap'), {policy: buildPolicy({console: 'console.test'})})
    const facts = report.connections[0]!.facts
    if (!isCaptureFacts(facts)) throw new Error('capture analysis gave probe facts')
    const s = streamVector(`${name}/capture.pcap`)
    const reader = new TlsConnectionReader({maxHandshakeMessageBytes: 1024})
    for (const g of s.segments) reader.data(directionOf(s, g.srcPort), fromHex(g.hex), {frame: g.frame, ts: g.ts})
    const tls = reader.facts()
    // The server's Certificate (frame 6): one certificate of ~1 KB, a 1,031-byte message.
    expect(tls.oversizedHandshake).toEqual({frame: 6, ts: expect.any(Number), direction: 's2c', type: 11, typeName: 'certificate', length: 1031, limit: 1024, decrypted: false})
    expect(reader.issues.map((i) => [i.code, i.message])).toContainEqual([
      'tls.handshake-too-large',
      "from the server: certificate message of 1031 bytes exceeds the 1024-byte limit (maxHandshakeMessageBytes): this direction's handshake is not read further",
    ])
    expect(tls.serverCertificate).toBeUndefined()
    const check = checkTlsCertificate(withDerivedFacts({...facts, tls}), buildPolicy({console: 'console.test'}))
    expect(check.summary).toBe("the server's Certificate message of 1031 bytes exceeds the 1024-byte limit (frame 6): not read, so the certificate was not evaluated")
    expect(check).toMatchObject({status: 'warn', confidence: 'observed', evidence: {frames: [6]}})
  })
})
