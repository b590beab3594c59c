/**
 * The TLS checks on TlsFacts built directly. Record sizes and frame layouts are those of the real
 * fixtures (tshark -e tls.record.content_type -e tls.record.length): fixtures/tls/node13-mtls
 * (client flight 1721+281+69 then data; server answers 1146, 1146, 36) and
 * fixtures/tls/openssl13-nocert (client flight 25+69; the server answers 19 then FIN), both
 * TLS_AES_256_GCM_SHA384.
 */
import {describe, expect, it} from 'vitest'
import type {CertificateVerdict, ConnectionFacts} from '../../src/model/facts.js'
import {withDerivedFacts, type AssembledFacts} from '../../src/analysis/derive.js'
import type {ClientHelloInfo, TlsFacts, TlsRecordRef} from '../../src/protocols/tls/types.js'
import type {Policy} from '../../src/model/policy.js'
import type {TcpFacts} from '../../src/stream/types.js'
import {checkTlsClientHello} from '../../src/checks/tls-client-hello.js'
import {checkTlsServerHello} from '../../src/checks/tls-server-hello.js'
import {checkTlsVersion} from '../../src/checks/tls-version.js'
import {checkTlsCertificate} from '../../src/checks/tls-certificate.js'
import {checkTlsClientCertificate} from '../../src/checks/tls-client-certificate.js'
import {checkTlsFinished} from '../../src/checks/tls-finished.js'
import {checkTlsAlerts} from '../../src/checks/tls-alerts.js'

const policy: Policy = {ports: [8084], minTls: '1.3'}
const stats = {packets: 1, bytes: 1, deliveredBytes: 1, retransmissions: 0, overlaps: 0, outOfOrder: 0}

function tcp(extra: Partial<TcpFacts> = {}): TcpFacts {
  return {
    syn: {frame: 1, ts: 0}, synRetransmissions: [], synAck: {frame: 2, ts: 0}, synAckRetransmissions: [], ack: {frame: 3, ts: 0},
    rst: [], fin: [], c2s: stats, s2c: stats, gaps: [], sawOpening: true, clientBy: 'syn', firstFrame: 1, lastFrame: 14, startTs: 0, endTs: 1, ...extra,
  }
}

function hello(extra: Partial<ClientHelloInfo> = {}): ClientHelloInfo {
  return {
    frame: 4, ts: 0, legacyVersion: 0x0303, random: '00'.repeat(32), sessionIdLength: 32, cipherSuites: [0x1302, 0x1301], compressionMethods: [0], extensions: [43],
    sni: 'console.example.com', supportedVersions: [0x0304, 0x0303], offersTls13: true, grease: false, ja3: '', ja3Hash: '', ja4: 't13d', ja4r: '', ...extra,
  }
}

function rec(direction: 'c2s' | 's2c', frame: number, length: number, contentType = 23): TlsRecordRef {
  return {direction, frame, ts: frame / 1000, contentType, version: 0x0303, length}
}

function tls13(records: TlsRecordRef[], extra: Partial<TlsFacts> = {}): TlsFacts {
  return {
    clientHellos: [hello()],
    serverHello: {frame: 6, ts: 0.006, legacyVersion: 0x0303, random: '11'.repeat(32), version: 0x0304, cipherSuite: 0x1302, extensions: [43, 51], keyShareGroup: 29, helloRetryRequest: false, ja3s: '', ja3sHash: ''},
    version: 0x0304, versionName: 'TLS 1.3', cipherSuite: 0x1302, cipherSuiteName: 'TLS_AES_256_GCM_SHA384',
    changeCipherSpec: {}, alerts: [], handshakeMessages: [], records: [rec('c2s', 4, 365, 22), rec('s2c', 6, 122, 22), ...records], recordsTruncated: false,
    totals: {c2s: {records: 0, bytes: 0, applicationData: 0, applicationDataBytes: 0}, s2c: {records: 0, bytes: 0, applicationData: 0, applicationDataBytes: 0}},
    ...extra,
  }
}

function conn(tls: TlsFacts | undefined, tcpExtra: Partial<TcpFacts> = {}, verdict?: CertificateVerdict): ConnectionFacts {
  const facts: AssembledFacts = {id: 1, client: {ip: '10.0.0.1', port: 36782}, server: {ip: '10.0.0.2', port: 8084}, startedAt: '', endedAt: '', tcp: tcp(tcpExtra), issues: []}
  if (tls) facts.tls = tls
  if (verdict) facts.certificates = {server: verdict}
  return withDerivedFacts(facts)
}

const serverFlight = [rec('s2c', 6, 23), rec('s2c', 6, 124), rec('s2c', 6, 1055), rec('s2c', 6, 281), rec('s2c', 6, 69)]
// fixtures/tls/node13-mtls: the client's Certificate, CertificateVerify, Finished and data; the server's two tickets and data.
const mtlsOk = tls13([...serverFlight, rec('c2s', 8, 1721), rec('c2s', 8, 281), rec('c2s', 8, 69), rec('c2s', 8, 37), rec('s2c', 9, 1146), rec('s2c', 9, 1146), rec('s2c', 9, 36)])
// fixtures/tls/openssl13-nocert: asked, the client sends an empty Certificate (25) and Finished (69); the server answers 19 bytes and closes.
const emptyCert = tls13([...serverFlight, rec('c2s', 8, 25), rec('c2s', 8, 69), rec('s2c', 9, 19)])
const emptyCertEnd = {fin: [{frame: 10, ts: 0.01, from: 'server' as const}]}
// Not asked: Finished alone (69), then data both ways.
const noRequest = tls13([...serverFlight, rec('c2s', 8, 69), rec('c2s', 8, 300), rec('s2c', 9, 1146)])
// The client rejects the server's flight: an alert-sized record then FIN.
const clientRejects = tls13([...serverFlight, rec('c2s', 8, 19)])
const clientRejectsEnd = {fin: [{frame: 9, ts: 0.009, from: 'client' as const}]}
// The client sends a certificate and the server resets without a word.
const certRejected = tls13([...serverFlight, rec('c2s', 8, 1721), rec('c2s', 8, 281), rec('c2s', 8, 69)])
const certRejectedEnd = {rst: [{frame: 9, ts: 0.009, from: 'server' as const}]}

describe('tls.client-hello', () => {
  it('passes a ClientHello offering TLS 1.3', () => {
    expect(checkTlsClientHello(conn(mtlsOk), policy)).toMatchObject({status: 'pass', summary: 'ClientHello offers TLS 1.3 (SNI console.example.com)', evidence: {frames: [4]}})
  })
  const only12 = tls13([], {clientHellos: [hello({offersTls13: false, supportedVersions: [0x0a0a, 0x0303]})]})
  it('fails TLS 1.2 only under the default policy, naming the version and --min-tls', () => {
    const result = checkTlsClientHello(conn(only12), policy)
    expect(result).toMatchObject({status: 'fail', summary: expect.stringContaining('only up to TLS 1.2')})
    expect(result.hint).toContain('--min-tls 1.2')
  })
  it('passes TLS 1.2 only under --min-tls 1.2, with a note', () => {
    expect(checkTlsClientHello(conn(only12), {...policy, minTls: '1.2'})).toMatchObject({status: 'pass', summary: expect.stringContaining('accepted by --min-tls 1.2')})
  })
  it('fails a plaintext HTTP stream, naming what was seen', () => {
    const facts = conn(tls13([], {clientHellos: [], notTls: {direction: 'c2s', frame: 4, firstBytes: Buffer.from('GET /api HTTP/1.1\r\nHost: x\r\n').toString('hex')}}))
    expect(checkTlsClientHello(facts, policy)).toMatchObject({status: 'fail', summary: 'the connection does not carry TLS: the client sent a plaintext HTTP request "GET /api HTTP/1.1" (frame 4)'})
  })
  it('skips when the TCP handshake never completed', () => {
    expect(checkTlsClientHello(conn(undefined, {ack: undefined, synAck: undefined}), policy)).toMatchObject({status: 'skip', summary: expect.stringContaining('TCP handshake never completed')})
  })
})

describe('tls.server-hello', () => {
  it('passes and notes a HelloRetryRequest', () => {
    const hrr = {frame: 5, ts: 0, legacyVersion: 0x0303, random: 'cf21', version: 0x0304, cipherSuite: 0x1302, extensions: [43, 51], keyShareGroup: 23, helloRetryRequest: true, ja3s: '', ja3sHash: ''}
    const result = checkTlsServerHello(conn(tls13([], {helloRetryRequest: hrr})))
    expect(result.status).toBe('pass')
    expect(result.summary).toContain('after a HelloRetryRequest (frame 5) asking for key share secp256r1')
    expect(result.evidence.values).toMatchObject({helloRetryRequest: true, retryGroup: 'secp256r1'})
  })
  it('fails when the server reset the connection instead of answering', () => {
    const result = checkTlsServerHello(conn(tls13([], {serverHello: undefined}), {rst: [{frame: 5, ts: 0, from: 'server'}]}))
    expect(result).toMatchObject({status: 'fail', summary: 'no ServerHello answered the ClientHello (frame 4): the server sent a TCP reset (RST) (frame 5)', evidence: {frames: [4, 5]}})
  })
  it('fails on a server alert, naming it', () => {
    const alert = {frame: 5, ts: 0, from: 'server' as const, level: 2, description: 70, descriptionName: 'protocol_version', decrypted: false}
    expect(checkTlsServerHello(conn(tls13([], {serverHello: undefined, alerts: [alert]}))).summary).toContain('the server sent a fatal protocol_version (70) alert (frame 5)')
  })
  it('says when nothing came before the capture ended', () => {
    expect(checkTlsServerHello(conn(tls13([], {serverHello: undefined}), {endTs: 3.2})).summary).toContain('nothing came until the capture ended 3.2 s later')
  })
})

describe('tls.version', () => {
  const tls12 = tls13([], {version: 0x0303})
  it('warns on TLS 1.2 under the default policy (some Console versions document mutual TLS 1.2), naming --min-tls', () => {
    const result = checkTlsVersion(conn(tls12), {ports: [8084]})
    expect(result).toMatchObject({status: 'warn', summary: 'negotiated TLS 1.2 although the client offered TLS 1.3 (policy: TLS 1.3 expected, TLS 1.2 warned, below fails)'})
    expect(result.hint).toContain('newer Consoles negotiate TLS 1.3')
    expect(result.hint).toContain('--min-tls 1.2')
  })
  it('fails TLS 1.2 under --min-tls 1.3, with the --min-tls 1.2 hint', () => {
    const result = checkTlsVersion(conn(tls12), {...policy, minTls: '1.3'})
    expect(result).toMatchObject({status: 'fail', summary: 'negotiated TLS 1.2 although the client offered TLS 1.3 (policy: at least TLS 1.3)'})
    expect(result.hint).toContain('--min-tls 1.2')
  })
  it('passes TLS 1.2 under --min-tls 1.2 and TLS 1.3 always', () => {
    expect(checkTlsVersion(conn(tls12), {...policy, minTls: '1.2'}).status).toBe('pass')
    expect(checkTlsVersion(conn(mtlsOk), policy).status).toBe('pass')
    expect(checkTlsVersion(conn(mtlsOk), {...policy, minTls: '1.3'}).status).toBe('pass')
  })
})

describe('tls.client-certificate (TLS 1.3 inferred from the client\'s first encrypted record)', () => {
  it('passes a certificate the server accepted (node13-mtls)', () => {
    const result = checkTlsClientCertificate(conn(mtlsOk))
    expect(result).toMatchObject({status: 'pass', confidence: 'inferred', evidence: {frames: [8, 9]}})
    expect(result.summary).toMatch(/^inferred: the client's final flight is 2,108 bytes \(first record 1721 bytes\) instead of the 69 of a Finished alone/)
  })
  it('fails an empty Certificate (openssl13-nocert)', () => {
    expect(checkTlsClientCertificate(conn(emptyCert, emptyCertEnd))).toMatchObject({status: 'fail', confidence: 'inferred', summary: expect.stringContaining('25 bytes, the size of an empty Certificate')})
  })
  it('skips when not asked: a Finished alone', () => {
    expect(checkTlsClientCertificate(conn(noRequest))).toMatchObject({status: 'skip', confidence: 'inferred', summary: expect.stringContaining('not asked')})
  })
  it('fails when the server rejects the final flight', () => {
    expect(checkTlsClientCertificate(conn(certRejected, certRejectedEnd)).summary).toContain('the server rejected the client\'s final flight (likely an encrypted alert: missing or untrusted client certificate): the server sent a TCP reset (RST) (frame 9)')
  })
})

describe('tls.finished', () => {
  it('infers both Finished accepted (node13-mtls)', () => {
    expect(checkTlsFinished(conn(mtlsOk))).toMatchObject({status: 'pass', confidence: 'inferred', summary: expect.stringContaining('so it accepted the client\'s Finished')})
  })
  it('fails consistently with tls.client-certificate when the server rejects the final flight', () => {
    const result = checkTlsFinished(conn(emptyCert, emptyCertEnd))
    expect(result).toMatchObject({status: 'fail', evidence: {frames: [8, 9, 10]}})
    expect(result.summary).toContain('likely an encrypted alert: missing or untrusted client certificate')
  })
  it('fails when the client alerts instead of sending its Finished', () => {
    expect(checkTlsFinished(conn(clientRejects, clientRejectsEnd)).status).toBe('fail')
  })
  it('TLS 1.2: both ChangeCipherSpec and application data after them', () => {
    const tls12 = tls13([rec('c2s', 10, 40), rec('s2c', 12, 40)], {version: 0x0303, changeCipherSpec: {c2s: {frame: 8, ts: 0}, s2c: {frame: 9, ts: 0}}})
    expect(checkTlsFinished(conn(tls12))).toMatchObject({status: 'pass', confidence: 'inferred', evidence: {frames: [8, 9, 10]}})
  })
})

describe('tls.alerts', () => {
  it('fails on a fatal alert, naming it, who and the frame', () => {
    const alert = {frame: 11, ts: 0, from: 'server' as const, level: 2, description: 116, descriptionName: 'certificate_required', decrypted: true}
    const result = checkTlsAlerts(conn(tls13([], {alerts: [alert]})))
    expect(result).toMatchObject({status: 'fail', summary: 'the server sent fatal alert certificate_required (116) (frame 11) [decrypted]', evidence: {frames: [11]}})
  })
  it('passes close_notify, inferred in TLS 1.3 where other alerts would be encrypted', () => {
    const alert = {frame: 11, ts: 0, from: 'client' as const, level: 1, description: 0, descriptionName: 'close_notify', decrypted: false}
    expect(checkTlsAlerts(conn(tls13([], {alerts: [alert]})))).toMatchObject({status: 'pass', confidence: 'inferred', summary: expect.stringContaining('no fatal alert (1 readable close_notify)')})
  })
  it('infers the encrypted alert that ends a rejected TLS 1.3 handshake', () => {
    expect(checkTlsAlerts(conn(emptyCert, emptyCertEnd))).toMatchObject({status: 'fail', confidence: 'inferred', summary: expect.stringContaining('19-byte encrypted record (frame 9)')})
  })
  it('passes a completed TLS 1.3 connection with no readable alert', () => {
    expect(checkTlsAlerts(conn(mtlsOk)).status).toBe('pass')
  })
})

describe('tls.certificate', () => {
  const leaf = {subject: 'CN=console.example.com', commonName: 'console.example.com', issuer: 'CN=Test Console CA,O=Test', sans: ['console.example.com'], serialNumber: '01', notBefore: '2025-01-01T00:00:00.000Z', notAfter: '2026-01-01T00:00:00.000Z', keyType: 'RSA', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption', sha256: 'ab'.repeat(32), derBase64: ''}
  const tls12 = tls13([], {version: 0x0303, serverCertificate: {frame: 6, ts: 0, from: 'server', certificates: [leaf], decrypted: false}})
  const base: CertificateVerdict = {at: '2025-06-01T00:00:00.000Z', presentedNames: ['console.example.com'], validAtCapture: true, notYetValid: false, expired: false, expiresInDays: 214}
  it('passes an observed certificate that meets the policy', () => {
    const result = checkTlsCertificate(conn(tls12, {}, {...base, expectedName: 'console.example.com', nameMatches: true, matchedName: 'console.example.com', chainVerified: true}), policy)
    expect(result).toMatchObject({status: 'pass', confidence: 'observed', summary: expect.stringContaining('chain verified to --ca')})
  })
  it('warns under 30 days left', () => {
    expect(checkTlsCertificate(conn(tls12, {}, {...base, expiresInDays: 12}), policy)).toMatchObject({status: 'warn', hint: expect.stringContaining('expires in 12 days')})
  })
  it('fails a foreign issuer with the likely cause as hint', () => {
    const verdict = {...base, chainVerified: false, chainError: 'no CA of ca.pem issued it', issuerIsExpectedCa: false, likelyCause: 'foreign-issuer' as const, likelyCauseText: 'the issuer "CN=Proxy" is not the Console CA (ca.pem): a TLS-inspecting proxy or a load balancer terminating TLS is presenting its own certificate'}
    expect(checkTlsCertificate(conn(tls12, {}, verdict), policy)).toMatchObject({status: 'fail', hint: verdict.likelyCauseText})
  })
  it('fails a wrong name and an expired certificate together', () => {
    // Captured 3 days 4 h after notAfter (the verdict's `at` is the capture time it was judged at).
    const result = checkTlsCertificate(conn(tls12, {}, {...base, at: '2026-01-04T04:00:00.000Z', expectedName: 'console.corp', nameMatches: false, validAtCapture: false, expired: true, expiresInDays: -4}), policy)
    expect(result.summary).toBe('server certificate "console.example.com": it does not name console.corp (it names console.example.com); expired 3 days 4 h before capture time (notAfter 2026-01-01T00:00:00.000Z)')
    expect(result.hint).toContain('a wrong clock on either side is one cause')
  })
  it('a certificate not yet valid says for how much longer, and that a wrong clock is one cause', () => {
    // Captured 2 h 13 min before notBefore (issue 18's example).
    const result = checkTlsCertificate(conn(tls12, {}, {...base, at: '2024-12-31T21:47:00.000Z', validAtCapture: false, notYetValid: true, expiresInDays: 365}), policy)
    expect(result).toMatchObject({status: 'fail', summary: 'server certificate "console.example.com": not yet valid for another 2 h 13 min at capture time (notBefore 2025-01-01T00:00:00.000Z)'})
    expect(result.hint).toMatch(/^check the clocks: a wrong clock on either side is one cause/)
  })
  it('infers acceptance in TLS 1.3 without keys, but a --ca it could not check is a warn naming what is missing', () => {
    const result = checkTlsCertificate(conn(mtlsOk), {...policy, caFile: 'ca.pem'})
    expect(result).toMatchObject({status: 'warn', confidence: 'inferred'})
    expect(result.summary).toBe("inferred: the server's encrypted flight of 1,552 bytes in 5 record(s) is large enough to carry a certificate and the client continued (sent its Finished flight, frame 8), so it accepted it; the chain (--ca) cannot be checked: the certificate is encrypted (TLS 1.3)")
    expect(result.hint).toMatch(/^encrypted: give --keylog/)
  })
  it('infers acceptance in TLS 1.3 without keys as a pass when no certificate policy was asked for', () => {
    expect(checkTlsCertificate(conn(mtlsOk), policy)).toMatchObject({status: 'pass', confidence: 'inferred'})
  })
  it('infers rejection when the client alerts and closes after the server flight', () => {
    expect(checkTlsCertificate(conn(clientRejects, clientRejectsEnd), policy)).toMatchObject({status: 'fail', confidence: 'inferred', summary: expect.stringContaining("it rejected the server's certificate")})
  })
  it('skips without TLS', () => {
    expect(checkTlsCertificate(conn(undefined, {c2s: {...stats, deliveredBytes: 0}, s2c: {...stats, deliveredBytes: 0}}), policy)).toMatchObject({status: 'skip', summary: 'no payload was sent on the connection'})
  })
})

describe('tls.client-certificate (observed)', () => {
  const request = {frame: 6, ts: 0, decrypted: false}
  it('skips when the client aborted on the server certificate before its own was due (fixtures/tls/intercepted)', () => {
    const alert = {frame: 8, ts: 0, from: 'client' as const, level: 2, description: 48, descriptionName: 'unknown_ca', decrypted: false}
    const facts = conn(tls13([], {version: 0x0303, certificateRequest: request, alerts: [alert]}))
    expect(checkTlsClientCertificate(facts)).toMatchObject({status: 'skip', summary: expect.stringContaining('the client aborted with a fatal unknown_ca (48) alert (frame 8)')})
  })
  it('fails an empty client Certificate', () => {
    const facts = conn(tls13([], {version: 0x0303, certificateRequest: request, clientCertificate: {frame: 8, ts: 0, from: 'client', certificates: [], decrypted: false}}))
    expect(checkTlsClientCertificate(facts)).toMatchObject({status: 'fail', summary: expect.stringContaining('sent an empty Certificate (frame 8)')})
  })
  it('a rejected client certificate that had expired at capture time says by how much, and that a wrong clock is one cause', () => {
    const client = {subject: 'CN=defender-1', commonName: 'defender-1', issuer: 'CN=Defender CA', sans: [], serialNumber: '02', notBefore: '2024-01-01T00:00:00.000Z', notAfter: '2025-01-01T00:00:00.000Z', keyType: 'EC', signatureAlgorithm: 'ecdsa-with-SHA256', sha256: 'cd'.repeat(32), derBase64: ''}
    // Presented 2 days 5 h after its notAfter; the server answered with certificate_expired.
    const ts = Date.parse('2025-01-03T05:00:00.000Z') / 1000
    const alert = {frame: 9, ts, from: 'server' as const, level: 2, description: 45, descriptionName: 'certificate_expired', decrypted: false}
    const facts = conn(tls13([], {version: 0x0303, certificateRequest: request, clientCertificate: {frame: 8, ts, from: 'client', certificates: [client], decrypted: false}, alerts: [alert]}))
    const result = checkTlsClientCertificate(facts)
    expect(result).toMatchObject({status: 'fail', summary: expect.stringContaining('rejected it with a fatal certificate_expired (45) alert (frame 9); its certificate was expired 2 days 5 h before capture time')})
    expect(result.hint).toMatch(/^the Defender's certificate was expired 2 days 5 h before capture time: redeploy the Defender.*a wrong clock on either side is one cause/)
  })
})
