/**
 * Phase 4, TLS with node:tls: the Defender's client certificate when given, the chain and the
 * name judged after the handshake (not by OpenSSL's callback, as node:tls does with
 * rejectUnauthorized) so a rejected certificate is reported by subject and issuer and --insecure
 * can go on past it.
 */
import {X509Certificate} from 'node:crypto'
import {writeSync} from 'node:fs'
import {isIP, type Socket} from 'node:net'
import {checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket} from 'node:tls'
import type {HandshakeFacts, ProbeTarget} from '../../model/probe.js'
import {summarizeX509, type ClientCredentials} from '../credentials.js'
import {failureOf, withTimeout} from '../failure.js'
import {parseCertificate} from '../../protocols/tls/x509.js'
import {elapsed, noteAlert} from './common.js'
import {HandshakeTap} from './handshake-tap.js'

/** What the handshake needs of the probe's options. */
export interface HandshakeOptions {
  target: ProbeTarget
  credentials: ClientCredentials
  minTls: '1.2' | '1.3'
  /** Certificate failures become warnings and the probe goes on. */
  insecure: boolean
  /** Deadline of the handshake (ms). */
  timeoutMs: number
}

export interface HandshakeOutcome {
  facts: HandshakeFacts
  /** The socket to go on with; undefined when the handshake failed or the certificate was refused. */
  socket?: TLSSocket
  /** The Console's certificate chain as node:tls verified it (leaf first; DER), for certs.lifetime. */
  peerChain: Buffer[]
}

export async function tlsHandshake(socket: Socket, options: HandshakeOptions, keylog: number | undefined): Promise<HandshakeOutcome> {
  const {target, credentials} = options
  const facts: HandshakeFacts = {
    minVersion: options.minTls,
    trust: credentials.ca?.file ?? "node's built-in root CAs",
    insecure: options.insecure,
  }
  if (target.servername !== undefined) facts.servername = target.servername
  if (credentials.client) {
    facts.clientCertificate = credentials.client.summary
    facts.clientCertificateIssuerName = parseCertificate(new X509Certificate(credentials.client.cert).raw).issuer
  }
  // node:tls runs over a copy-keeping pass-through so the CertificateRequest can be read (handshake-tap.ts).
  const tap = new HandshakeTap()
  const tlsOptions: ConnectionOptions = {
    socket: tap.wrap(socket),
    minVersion: options.minTls === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    // Judged below, after the handshake, so the certificate can be reported (see the file comment).
    rejectUnauthorized: false,
    // node checks the name inside the handshake too, and over an existing socket without `host`
    // it checks "localhost", folding a name mismatch into tls.authorized. The chain (authorized)
    // and the name (checked below against the target) are two separate questions.
    checkServerIdentity: () => undefined,
  }
  // RFC 6066 §3: SNI carries host names only, never an IP literal; an IP target is still
  // verified, against the certificate's IP SANs (RFC 6125 §6.2.1, as curl and `openssl s_client
  // -verify_ip` do).
  if (target.servername !== undefined && isIP(target.servername) === 0) tlsOptions.servername = target.servername
  if (credentials.ca) tlsOptions.ca = credentials.ca.pem
  if (credentials.client) {
    tlsOptions.cert = credentials.client.cert
    tlsOptions.key = credentials.client.key
  }
  const t0 = performance.now()
  const tls = tlsConnect(tlsOptions)
  tls.on('keylog', (line: Buffer) => {
    tap.keyLogLine(line)
    if (keylog !== undefined) writeSync(keylog, line)
  })
  const secure = new Promise<void>((resolve, reject) => {
    tls.once('secureConnect', () => {
      tls.off('error', reject)
      resolve()
    })
    tls.once('error', reject)
  })
  try {
    await withTimeout(secure, options.timeoutMs, 'to the TLS ClientHello', () => tls.destroy())
  } catch (error) {
    facts.ms = elapsed(t0)
    facts.error = failureOf(error)
    noteAlert(facts, error, 'tls')
    tls.destroy()
    facts.certificateRequest = tap.readCertificateRequest()
    return {facts, peerChain: []}
  }
  // secureConnect: the client sent its final flight, so the server's whole first flight (with any
  // CertificateRequest, RFC 8446 §4.3.2) has been read.
  facts.certificateRequest = tap.readCertificateRequest()
  facts.ms = elapsed(t0)
  // Errors after the handshake (a TLS 1.3 server's alert about the client certificate) surface
  // through whoever reads next (ws); this keeps an unread one from being unhandled.
  tls.on('error', () => undefined)
  facts.version = tls.getProtocol() ?? undefined
  const cipher = tls.getCipher()
  facts.cipher = cipher.standardName ?? cipher.name
  if (tls.alpnProtocol) facts.alpn = tls.alpnProtocol
  // OpenSSL fills the shared signature algorithms on the client only from a CertificateRequest's
  // signature_algorithms (RFC 8446 §4.3.2), so a non-empty list means the server asked.
  facts.clientCertificateRequested = tls.getSharedSigalgs().length > 0
  // One getPeerCertificate call and nothing before it: after getPeerX509Certificate() (or a first
  // call) node 20 hands back a certificate without its fields, which checkServerIdentity rejects.
  const presented = tls.getPeerCertificate(true)
  const peerChain: Buffer[] = []
  if (presented.raw) {
    facts.peerCertificate = summarizeX509(new X509Certificate(presented.raw))
    const chain = chainOf(presented)
    facts.peerChain = chain.map(subjectOf)
    peerChain.push(...chain.flatMap((cert) => (cert.raw ? [cert.raw] : [])))
    facts.chainVerified = tls.authorized
    if (!tls.authorized) facts.chainError = String(tls.authorizationError)
    const nameError = checkServerIdentity(target.servername ?? target.host, presented)
    if (nameError) facts.nameError = nameError.message
  } else {
    facts.chainVerified = false
    facts.chainError = 'NO_PEER_CERTIFICATE'
  }
  const refused = facts.chainVerified !== true || facts.nameError !== undefined
  if (refused && !options.insecure) {
    facts.error = {code: facts.chainError ?? 'ERR_TLS_CERT_ALTNAME_INVALID', message: facts.chainError ? `certificate rejected: ${facts.chainError}` : `certificate rejected: ${facts.nameError}`}
    tls.destroy()
    return {facts, peerChain}
  }
  return {facts, socket: tls, peerChain}
}

type LinkedCertificate = PeerCertificate & {issuerCertificate?: PeerCertificate}

/** The presented chain, leaf first (node links it through issuerCertificate; a self-signed root points at itself). */
function chainOf(leaf: LinkedCertificate): LinkedCertificate[] {
  const chain: LinkedCertificate[] = []
  const seen = new Set<string>()
  let current: LinkedCertificate | undefined = leaf
  while (current && current.fingerprint256 && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256)
    chain.push(current)
    current = current.issuerCertificate
  }
  return chain
}

function subjectOf(cert: PeerCertificate): string {
  return Object.entries(cert.subject ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', ')
}
