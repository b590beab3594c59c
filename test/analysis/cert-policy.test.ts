import {X509Certificate} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {evaluateServerCertificate, loadCaBundle, matchDnsName, matchIp} from '../../src/analysis/cert-policy.js'
import {parseCertificate} from '../../src/protocols/tls/x509.js'
import {InputError} from '../../src/errors.js'

const CERTS = join(import.meta.dirname, 'certs')
const cert = (file: string) => {
  const bytes = readFileSync(join(CERTS, file))
  return parseCertificate(file.endsWith('.der') ? bytes : Buffer.from(bytes.toString('latin1').replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64'))
}
const tmp = mkdtempSync(join(tmpdir(), 'cert-policy-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))
function pemBundle(name: string, ...ders: string[]): string {
  const file = join(tmp, name)
  writeFileSync(file, ders.map((d) => new X509Certificate(readFileSync(join(CERTS, d))).toString()).join(''))
  return file
}

describe('RFC 6125 §6.4 name matching', () => {
  const identity = {dnsNames: ['console.example.com', '*.example.com'], ipAddresses: ['10.0.0.5', '2001:db8::5'], commonName: 'ignored.example.org'}
  it.each([
    ['console.example.com', 'console.example.com'],
    ['CONSOLE.Example.COM', 'console.example.com'],
    ['console.example.com.', 'console.example.com'],
    ['a.example.com', '*.example.com'],
    ['a.b.example.com', undefined], // the wildcard stands for exactly one label
    ['example.com', undefined], // and for a non-empty one
    ['ignored.example.org', undefined], // CN is not used when a DNS SAN exists (§6.4.4)
    ['10.0.0.5', undefined], // an IP reference never matches DNS names or wildcards
  ])('%s → %s', (reference, matched) => {
    expect(matchDnsName(identity, reference)).toBe(matched)
  })
  it('uses the CN only when there is no DNS SAN', () => {
    expect(matchDnsName({dnsNames: [], ipAddresses: [], commonName: 'Console.example.com'}, 'console.example.com')).toBe('Console.example.com')
  })
  it('does not support partial wildcards (foo*.example.com) nor wildcards over a public suffix', () => {
    expect(matchDnsName({dnsNames: ['foo*.example.com'], ipAddresses: []}, 'foobar.example.com')).toBeUndefined()
    expect(matchDnsName({dnsNames: ['*.com'], ipAddresses: []}, 'example.com')).toBeUndefined()
    expect(matchDnsName({dnsNames: ['a.*.example.com'], ipAddresses: []}, 'a.b.example.com')).toBeUndefined()
  })
  it.each([
    ['10.0.0.5', '10.0.0.5'],
    ['2001:DB8:0:0:0:0:0:5', '2001:db8::5'],
    ['[2001:db8::5]', '2001:db8::5'],
    ['10.0.0.6', undefined],
    ['console.example.com', undefined],
  ])('IP %s → %s', (reference, matched) => {
    expect(matchIp(identity, reference)).toBe(matched)
  })
  // OpenSSL's X509_check_host (without partial wildcards) is an independent oracle on the real certificates.
  it.each([
    ['dns.pem', 'console.example.com'],
    ['dns.pem', 'x.example.com'],
    ['dns.pem', 'a.b.example.com'],
    ['dns.pem', 'example.com'],
    ['cn-only.pem', 'console.example.com'],
    ['cn-only.pem', 'other.example.com'],
    ['partial-wildcard.pem', 'foobar.example.com'],
    ['corpus-browsers-x509-127-0.der', 'www.liveperson.net'],
    ['corpus-browsers-x509-127-0.der', 'liveperson.net'],
    ['corpus-browsers-x509-127-0.der', 'a.www.liveperson.net'],
  ])('%s for %s agrees with OpenSSL checkHost', (file, name) => {
    const x509 = new X509Certificate(readFileSync(join(CERTS, file)))
    const openssl = x509.checkHost(name, {partialWildcards: false}) !== undefined
    const ours = evaluateServerCertificate([cert(file)], {consoleName: name, at: new Date(cert(file).notBefore)}).nameMatches
    expect(ours).toBe(openssl)
  })
  it.each([['10.0.0.5'], ['2001:db8::5'], ['10.0.0.6']])('IP %s agrees with OpenSSL checkIP', (ip) => {
    const x509 = new X509Certificate(readFileSync(join(CERTS, 'dns.pem')))
    const ours = evaluateServerCertificate([cert('dns.pem')], {consoleIp: ip, at: new Date()}).nameMatches
    expect(ours).toBe(x509.checkIP(ip) !== undefined)
  })
})

describe('validity at the capture time (browsers-x509.pcapng frame 8: notBefore 2023-06-27T18:17:14Z, notAfter 2024-06-21T18:17:14Z, per openssl)', () => {
  const leaf = cert('corpus-browsers-x509-8-0.der')
  it.each([
    ['2023-06-27T18:17:13Z', {validAtCapture: false, notYetValid: true, expired: false}],
    ['2023-06-27T18:17:14Z', {validAtCapture: true, notYetValid: false, expired: false, expiresInDays: 360}],
    ['2024-06-01T18:17:14Z', {validAtCapture: true, expiresInDays: 20}],
    ['2024-06-21T18:17:14Z', {validAtCapture: true, expiresInDays: 0}],
    ['2024-06-21T18:17:15Z', {validAtCapture: false, expired: true, expiresInDays: -1}],
  ])('at %s', (at, expected) => {
    expect(evaluateServerCertificate([leaf], {at: new Date(at)})).toMatchObject(expected)
  })
})

describe('chain to --ca', () => {
  const at = new Date('2023-12-01T00:00:00Z')
  it('verifies a real RSA chain to its intermediate CA', () => {
    const ca = loadCaBundle(pemBundle('azure.pem', 'corpus-browsers-x509-8-1.der'))
    const verdict = evaluateServerCertificate([cert('corpus-browsers-x509-8-0.der'), cert('corpus-browsers-x509-8-1.der')], {ca, at})
    expect(verdict).toMatchObject({chainVerified: true, issuerIsExpectedCa: true})
    expect(verdict.chainPath).toEqual(['CN=edge.microsoft.com,O=Microsoft Corporation,L=Redmond,ST=WA,C=US', 'CN=Microsoft Azure TLS Issuing CA 05,O=Microsoft Corporation,C=US'])
  })
  it('verifies a real three-certificate chain whose root is presented and in the bundle', () => {
    const ca = loadCaBundle(pemBundle('usertrust.pem', 'corpus-browsers-x509-127-2.der'))
    const chain = ['corpus-browsers-x509-127-0.der', 'corpus-browsers-x509-127-1.der', 'corpus-browsers-x509-127-2.der'].map(cert)
    expect(evaluateServerCertificate(chain, {ca, at}).chainPath).toHaveLength(3)
  })
  it('verifies an ECDSA signature (GeoTrust ECC CA 2018 → *.adnxs.com)', () => {
    const ca = loadCaBundle(pemBundle('geotrust.pem', 'corpus-browsers-x509-44-1.der'))
    expect(evaluateServerCertificate([cert('corpus-browsers-x509-44-0.der')], {ca, at}).chainVerified).toBe(true)
  })
  it('verifies the generated Console chain, RSA and EC leaves', () => {
    const ca = loadCaBundle(join(CERTS, 'ca.pem'))
    for (const leaf of ['dns.pem', 'ec.pem']) {
      expect(evaluateServerCertificate([cert(leaf)], {ca, at: new Date(cert(leaf).notBefore)}).chainVerified).toBe(true)
    }
  })
  it('names a foreign issuer as the likely cause (a proxy or load balancer presenting its own certificate)', () => {
    const ca = loadCaBundle(join(CERTS, 'other-ca.pem'))
    const verdict = evaluateServerCertificate([cert('dns.pem')], {ca, at: new Date(cert('dns.pem').notBefore)})
    expect(verdict).toMatchObject({chainVerified: false, issuerIsExpectedCa: false, likelyCause: 'foreign-issuer'})
    expect(verdict.likelyCauseText).toContain('the issuer "CN=Test Console CA,O=Test" is not the Console CA')
    expect(verdict.chainError).toContain('no CA of')
  })
  it('fails when an intermediate had expired at the capture time', () => {
    const ca = loadCaBundle(pemBundle('usertrust2.pem', 'corpus-browsers-x509-127-2.der'))
    const chain = ['corpus-browsers-x509-127-0.der', 'corpus-browsers-x509-127-1.der'].map(cert)
    // Sectigo's intermediate is valid from 2018-11-02: at 2018-06-01 it was not yet valid.
    const verdict = evaluateServerCertificate(chain, {ca, at: new Date('2018-06-01T00:00:00Z')})
    expect(verdict).toMatchObject({chainVerified: false, issuerIsExpectedCa: true})
    expect(verdict.chainError).toMatch(/Sectigo RSA Organization Validation Secure Server CA.*not yet valid/)
    expect(verdict.likelyCause).toBeUndefined()
  })
})

describe('pin', () => {
  const leaf = cert('corpus-browsers-x509-8-0.der')
  const at = new Date('2024-01-01')
  it.each([
    ['sha256:9F:42:45:E9:0D:78:F0:0A:91:06:2D:2E:0B:9B:66:34:E9:55:8A:CF:87:0C:B9:9C:98:B8:60:8E:F2:BF:8D:8D', true], // openssl -fingerprint form
    ['SHA256:9f4245e90d78f00a91062d2e0b9b6634e9558acf870cb99c98b8608ef2bf8d8d', true],
    ['sha256:9f4245e90d78f00a91062d2e0b9b6634e9558acf870cb99c98b8608ef2bf8d8e', false],
  ])('%s → %s', (pin, matches) => {
    expect(evaluateServerCertificate([leaf], {pin, at}).pinMatches).toBe(matches)
  })
  it('is not judged without --pin, --ca or --console', () => {
    const verdict = evaluateServerCertificate([leaf], {at})
    expect(verdict.pinMatches).toBeUndefined()
    expect(verdict.chainVerified).toBeUndefined()
    expect(verdict.nameMatches).toBeUndefined()
  })
})

describe('loadCaBundle errors name the file', () => {
  it('missing file', () => {
    const file = join(tmp, 'missing.pem')
    expect(() => loadCaBundle(file)).toThrow(InputError)
    expect(() => loadCaBundle(file)).toThrow(/ENOENT/)
    try {
      loadCaBundle(file)
    } catch (error) {
      expect((error as InputError).file).toBe(file)
    }
  })
  it('no PEM certificate in it', () => {
    const file = join(tmp, 'empty.pem')
    writeFileSync(file, 'hello\n')
    expect(() => loadCaBundle(file)).toThrow(/no PEM certificate/)
  })
  it('a corrupt certificate in it', () => {
    const file = join(tmp, 'corrupt.pem')
    writeFileSync(file, `${readFileSync(join(CERTS, 'ca.pem'), 'utf8')}-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n`)
    expect(() => loadCaBundle(file)).toThrow(/certificate #2 of the CA bundle/)
  })
  it('an unparseable leaf gives a verdict with parseError, not a throw', () => {
    const verdict = evaluateServerCertificate([parseCertificate(new Uint8Array([1, 2, 3]))], {at: new Date()})
    expect(verdict.parseError).toMatch(/not a valid X\.509/)
  })
})
