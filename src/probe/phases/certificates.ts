/**
 * The certificates of the probe's connection, for certs.lifetime: the Defender's client
 * certificate, the CA bundle (--ca, or defender-ca.pem of --defender-certs) and the Console's
 * chain as node:tls verified it. Which of them the connection depends on (onPath) is decided here,
 * by signature (RFC 5280 §6.1, one step), as `certs DIR` does (defender-certs.ts).
 */
import {X509Certificate} from 'node:crypto'
import {MAX_CA_BUNDLE_CERTIFICATES} from '../../limits.js'
import type {ProbeCertificate, ProbeCertificateRole} from '../../model/probe.js'
import {summarizeX509, type ClientCredentials} from '../credentials.js'

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g
export const CONSOLE_SOURCE = 'the Console'

export interface ConnectionCertificates {
  certificates: ProbeCertificate[]
  /** Certificates of the CA bundle beyond MAX_CA_BUNDLE_CERTIFICATES, not read. */
  omitted: number
}

export function connectionCertificates(credentials: ClientCredentials, peerChain: Buffer[]): ConnectionCertificates {
  const certificates: ProbeCertificate[] = []
  const add = (role: ProbeCertificateRole, source: string, x509: X509Certificate, onPath: boolean) => certificates.push({role, source, onPath, ...summarizeX509(x509)})
  const issued = (cert: X509Certificate, by: X509Certificate): boolean => cert.checkIssued(by) && cert.verify(by.publicKey)

  const client = credentials.client ? new X509Certificate(credentials.client.cert) : undefined
  const consoleChain = peerChain.map((der) => new X509Certificate(der))
  const blocks = credentials.ca ? (credentials.ca.pem.toString('latin1').match(PEM_CERTIFICATE) ?? []) : []
  const cas = blocks.slice(0, MAX_CA_BUNDLE_CERTIFICATES).flatMap((block) => {
    try {
      return [new X509Certificate(block)]
    } catch {
      // node:tls loaded the bundle; a block it skipped is no CA of this connection.
      return []
    }
  })

  if (client && credentials.client) add('client', credentials.client.certFile, client, true)
  const consoleTop = consoleChain[consoleChain.length - 1]
  const consoleFingerprints = new Set(consoleChain.map((cert) => cert.fingerprint256))
  for (const ca of cas) {
    // On the path: it issued the client certificate, or it anchors (or is part of) the Console's chain.
    const onPath = (client !== undefined && issued(client, ca)) || consoleFingerprints.has(ca.fingerprint256) || (consoleTop !== undefined && issued(consoleTop, ca))
    add('ca', credentials.ca!.file, ca, onPath)
  }
  const caFingerprints = new Set(cas.map((ca) => ca.fingerprint256))
  consoleChain.forEach((cert, index) => {
    // The trust anchor node linked from the bundle is listed once, as the bundle's.
    if (index > 0 && caFingerprints.has(cert.fingerprint256)) return
    add(index === 0 ? 'console' : 'console-chain', CONSOLE_SOURCE, cert, true)
  })
  return {certificates, omitted: Math.max(0, blocks.length - MAX_CA_BUNDLE_CERTIFICATES)}
}
