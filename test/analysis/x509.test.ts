import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseCertificate, readSubjectAltNames} from '../../src/protocols/tls/x509.js'
import {requireTool} from '../helpers/tools.js'

const CERTS = join(import.meta.dirname, 'certs')
const corpus = readdirSync(CERTS).filter((f) => f.endsWith('.der'))
const generated = ['ca.pem', 'other-ca.pem', 'dns.pem', 'cn-only.pem', 'partial-wildcard.pem', 'ec.pem']

function derOf(file: string): Buffer {
  const bytes = readFileSync(join(CERTS, file))
  if (file.endsWith('.der')) return bytes
  return Buffer.from(bytes.toString('latin1').replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64')
}

/** OpenSSL is the oracle: RFC 2253 names, dates, fingerprint, serial, SAN and key, read independently. */
function openssl(file: string): Record<string, string> {
  const form = file.endsWith('.der') ? 'der' : 'pem'
  requireTool('openssl')
  const out = execFileSync('openssl', ['x509', '-inform', form, '-in', join(CERTS, file), '-noout', '-nameopt', 'RFC2253', '-subject', '-issuer', '-startdate', '-enddate', '-serial', '-fingerprint', '-sha256', '-ext', 'subjectAltName'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
  const fields: Record<string, string> = {}
  const lines = out.split('\n')
  for (const [i, line] of lines.entries()) {
    const eq = line.indexOf('=')
    if (line.startsWith('X509v3 Subject Alternative Name')) fields.san = lines[i + 1].trim()
    else if (eq > 0 && !line.startsWith(' ')) fields[line.slice(0, eq)] = line.slice(eq + 1)
  }
  const text = execFileSync('openssl', ['x509', '-inform', form, '-in', join(CERTS, file), '-noout', '-text'], {encoding: 'utf8'})
  fields.keyAlgorithm = /Public Key Algorithm: (\S+)/.exec(text)![1]
  fields.keyBits = /Public-Key: \((\d+) bit\)/.exec(text)![1]
  fields.signatureAlgorithm = /Signature Algorithm: (\S+)/.exec(text)![1]
  return fields
}

describe('parseCertificate against openssl x509', () => {
  it.each([...corpus, ...generated])('%s', (file) => {
    const info = parseCertificate(derOf(file))
    const want = openssl(file)
    expect(info.parseError).toBeUndefined()
    expect(info.subject).toBe(want.subject)
    expect(info.issuer).toBe(want.issuer)
    expect(info.notBefore).toBe(new Date(want.notBefore).toISOString())
    expect(info.notAfter).toBe(new Date(want.notAfter).toISOString())
    expect(info.serialNumber).toBe(want.serial)
    expect(info.sha256).toBe(want['sha256 Fingerprint'].replace(/:/g, '').toLowerCase())
    const sans = (want.san ?? '').split(', ').filter(Boolean).map((s) => s.replace(/^(DNS|IP Address):/, ''))
    // OpenSSL prints IPv6 uncompressed and uppercase; ours are RFC 5952 text.
    expect(info.sans).toEqual(sans.map((s) => (s.includes(':') ? new URL(`http://[${s}]/`).hostname.slice(1, -1) : s)))
    expect(info.keyType).toBe({rsaEncryption: 'RSA', 'id-ecPublicKey': 'EC'}[want.keyAlgorithm])
    expect(info.keyBits).toBe(Number(want.keyBits))
    expect(info.signatureAlgorithm).toBe(want.signatureAlgorithm)
    expect(Buffer.from(info.derBase64, 'base64').equals(derOf(file))).toBe(true)
  })

  it('reads the values of a real EC certificate (browsers-x509.pcapng frame 44), which node-forge alone cannot', () => {
    const info = parseCertificate(derOf('corpus-browsers-x509-44-0.der'))
    expect(info).toMatchObject({
      commonName: '*.adnxs.com',
      subject: 'CN=*.adnxs.com,O=Xandr Inc.,L=New York,ST=New York,C=US',
      sans: ['*.adnxs.com', 'adnxs.com'],
      notAfter: '2024-03-15T23:59:59.000Z',
      keyType: 'EC',
      keyBits: 256,
      signatureAlgorithm: 'ecdsa-with-SHA256',
      sha256: '2337bd5ee4be3f42822efc81a3c918daff82a7d8c23731be9035faf9cc40fa2e',
    })
  })

  it('reads an EC key with explicit curve parameters (CVE-2020-0601 test certificate, badcurveball.pcap)', () => {
    expect(parseCertificate(derOf('corpus-badcurveball-7-1.der'))).toMatchObject({keyType: 'EC', keyBits: 384, commonName: 'INFIGO'})
  })

  it('keeps DNS and IP subjectAltNames apart', () => {
    expect(readSubjectAltNames(derOf('dns.pem'))).toEqual({dnsNames: ['console.example.com', '*.example.com'], ipAddresses: ['10.0.0.5', '2001:db8::5']})
  })
})

describe('parseCertificate on bad input', () => {
  it.each([
    ['empty', new Uint8Array(0)],
    ['not DER', new TextEncoder().encode('this is not a certificate')],
    ['a SEQUENCE of junk', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05])],
    ['a truncated real certificate', derOf('dns.pem').subarray(0, 300)],
  ])('%s gives parseError, not a throw', (_name, der) => {
    const info = parseCertificate(der)
    expect(info.parseError).toMatch(/^not a valid X\.509 certificate/)
    expect(info.sha256).toHaveLength(64)
  })
})
