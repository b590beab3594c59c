/**
 * The probe's TLS material: the CA bundle that must have issued the Console's certificate and the
 * Defender's client certificate and key, from explicit files or from a Defender's certificate
 * directory (/var/lib/twistlock/certificates: defender-ca.pem, defender-client-cert.pem,
 * defender-client-key.pem, and the key's passphrase in service-parameter).
 *
 * Defender keys are legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`, RFC 1421 §4.6.1.1). OpenSSL 3
 * (node:crypto) refuses the ciphers that moved to its legacy provider (DES-CBC, for one); node-forge
 * implements the legacy PEM decryption itself, so it is the fallback.
 */
import {isoDate} from '../time.js'
import {createPrivateKey, X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {createSecureContext} from 'node:tls'
import forge from 'node-forge'
import {InputError, UsageError} from '../errors.js'
import type {CertificateSummary} from '../model/probe.js'

/** The file names of a Defender's certificate directory. */
export const DEFENDER_CERT_FILES = {
  ca: 'defender-ca.pem',
  cert: 'defender-client-cert.pem',
  key: 'defender-client-key.pem',
  passphrase: 'service-parameter',
} as const

export interface CredentialFiles {
  /** PEM bundle of the CA(s) the Console certificate must chain to. */
  ca?: string
  /** PEM client certificate (chain). */
  cert?: string
  /** PEM private key of the client certificate, plain or encrypted. */
  key?: string
  /** Passphrase of an encrypted key. */
  passphrase?: string
  /** A file whose first line is the passphrase (kept out of argv, which `ps` shows every user). */
  passphraseFile?: string
  /** A Defender certificate directory; explicit files above take precedence over its files. */
  defenderCerts?: string
}

export interface ClientCredentials {
  ca?: {file: string; pem: Buffer}
  client?: {certFile: string; keyFile: string; cert: Buffer; key: string; summary: CertificateSummary}
}

export function loadCredentials(files: CredentialFiles): ClientCredentials {
  const dir = files.defenderCerts
  const caFile = files.ca ?? (dir === undefined ? undefined : join(dir, DEFENDER_CERT_FILES.ca))
  const certFile = files.cert ?? (dir === undefined ? undefined : join(dir, DEFENDER_CERT_FILES.cert))
  const keyFile = files.key ?? (dir === undefined ? undefined : join(dir, DEFENDER_CERT_FILES.key))
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--cert and --key go together: the client certificate needs its private key')

  const credentials: ClientCredentials = {}
  if (caFile !== undefined) {
    const pem = readInput(caFile, 'the CA bundle')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new InputError('no PEM certificate (-----BEGIN CERTIFICATE-----) in the CA bundle', caFile)
    credentials.ca = {file: caFile, pem}
  }
  if (certFile !== undefined && keyFile !== undefined) {
    const cert = readInput(certFile, 'the client certificate')
    const keyPem = readInput(keyFile, 'the client key').toString('latin1')
    if (files.passphrase !== undefined && files.passphraseFile !== undefined) throw new UsageError('--passphrase and --passphrase-file: give the passphrase one way')
    let passphrase = files.passphrase
    if (passphrase === undefined && files.passphraseFile !== undefined) {
      // One line; a trailing newline (echo, an editor) is not part of it.
      passphrase = readInput(files.passphraseFile, 'the key passphrase').toString('utf8').replace(/\r?\n$/, '')
    }
    if (passphrase === undefined && dir !== undefined && isEncrypted(keyPem)) passphrase = readDefenderPassphrase(dir)
    const key = decryptPrivateKey(keyPem, passphrase, keyFile)
    const summary = summarizeCertificate(cert, certFile)
    try {
      createSecureContext({cert, key})
    } catch (error) {
      throw new InputError(`the client certificate ${certFile} and key do not go together: ${(error as Error).message}`, keyFile)
    }
    credentials.client = {certFile, keyFile, cert, key, summary}
  }
  return credentials
}

/** The passphrase of a Defender directory's encrypted key, from its service-parameter file. */
export function readDefenderPassphrase(dir: string): string {
  // service-parameter holds the passphrase, no trailing newline; tolerate one written by hand.
  return readInput(join(dir, DEFENDER_CERT_FILES.passphrase), 'the key passphrase (service-parameter)').toString('utf8').replace(/\r?\n$/, '')
}

export function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    throw new InputError(`cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, file)
  }
}

export function isEncrypted(pem: string): boolean {
  return /Proc-Type:\s*4,ENCRYPTED|-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)
}

/** A private key as plain PEM: decrypted with node:crypto, or node-forge for legacy PEM ciphers OpenSSL 3 refuses. */
export function decryptPrivateKey(pem: string, passphrase: string | undefined, file: string): string {
  if (!isEncrypted(pem)) {
    try {
      return createPrivateKey(pem).export({type: 'pkcs8', format: 'pem'}) as string
    } catch (error) {
      throw new InputError(`not a usable PEM private key: ${(error as Error).message}`, file)
    }
  }
  if (passphrase === undefined) throw new UsageError(`${file}: the key is encrypted: give its passphrase with --passphrase-file, $DEFENDER_CHECK_PASSPHRASE or --passphrase (a Defender keeps it in service-parameter, read by --defender-certs)`)
  let nodeError: Error
  try {
    return createPrivateKey({key: pem, passphrase}).export({type: 'pkcs8', format: 'pem'}) as string
  } catch (error) {
    nodeError = error as Error
  }
  if (pem.includes('Proc-Type')) {
    let key: forge.pki.rsa.PrivateKey | null = null
    try {
      key = forge.pki.decryptRsaPrivateKey(pem, passphrase)
    } catch {
      // An unsupported DEK-Info cipher: fall through to the error below.
    }
    if (key) return forge.pki.privateKeyToPem(key)
  }
  throw new InputError(`cannot decrypt the key: wrong passphrase or unsupported encryption (${nodeError.message})`, file)
}

/** Subject, issuer, validity and fingerprint of the first certificate in a PEM file. */
export function summarizeCertificate(pem: Buffer, file: string): CertificateSummary {
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(pem)
  } catch (error) {
    throw new InputError(`not a PEM certificate: ${(error as Error).message}`, file)
  }
  return summarizeX509(x509)
}

export function summarizeX509(x509: X509Certificate): CertificateSummary {
  const summary: CertificateSummary = {
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    validFrom: isoDate(new Date(x509.validFrom)),
    validTo: isoDate(new Date(x509.validTo)),
    sha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
  }
  if (x509.subjectAltName !== undefined) summary.subjectAltName = x509.subjectAltName
  return summary
}

/** node prints distinguished names one attribute per line: `O=defender-check test, CN=console.test`. */
function oneLine(dn: string): string {
  return dn.split('\n').join(', ')
}
