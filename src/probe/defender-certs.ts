/**
 * `certs DIR`: a Defender's certificate directory (/var/lib/twistlock/certificates) read and
 * judged at a date. The Console rotates its Defender CA (valid 3 years) 1.5 years early and keeps
 * the previous one as a `.old` file; a Defender that is not redeployed keeps a client certificate
 * issued by the old CA and stops connecting when that CA (or its own certificate) expires. So the
 * client certificate is placed in a generation (defender-ca.pem's or a .old CA's), and the
 * forecast is the earliest expiry among the client certificate, its issuing CA and defender-ca.pem.
 *
 * The key is read (and decrypted with service-parameter's passphrase, as `probe --defender-certs`
 * does: credentials.ts) only to check it belongs to the certificate; neither the key nor the
 * passphrase is kept in the report or written in any message.
 */
import {createPrivateKey, X509Certificate} from 'node:crypto'
import {existsSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {InputError} from '../errors.js'
import {MAX_CA_BUNDLE_CERTIFICATES, MAX_CERT_FILE_BYTES} from '../limits.js'
import type {CertRole, CertsReport, CertStatus, DirectoryCertificate} from '../model/certs.js'
import {isoDate} from '../time.js'
import {TOOL_VERSION} from '../analysis/version.js'
import {DEFAULT_CERT_FAIL_DAYS, DEFAULT_CERT_WARN_DAYS, daysLeftText, forecastOf, judgeValidity} from '../checks/probe/cert-lifetime.js'
import {DEFENDER_CERT_FILES, decryptPrivateKey, isEncrypted, readDefenderPassphrase, readInput, summarizeX509} from './credentials.js'

export const DEFAULT_DEFENDER_CERT_DIR = '/var/lib/twistlock/certificates'
export {DEFAULT_CERT_FAIL_DAYS, DEFAULT_CERT_WARN_DAYS}

/**
 * The files a CA rotation leaves behind. Both spellings are accepted (`X.pem.old` and `X.old`):
 * the field reports name the files "the .old files" without one spelling we could confirm.
 */
const OLD_CA_FILES = ['defender-ca.pem.old', 'defender-ca.old']
const OLD_CLIENT_FILES = ['defender-client-cert.pem.old', 'defender-client-cert.old']

export interface CertsOptions {
  now: Date
  warnDays?: number
  failDays?: number
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

export function checkDefenderCerts(directory: string, options: CertsOptions): CertsReport {
  const warnDays = options.warnDays ?? DEFAULT_CERT_WARN_DAYS
  const failDays = options.failDays ?? DEFAULT_CERT_FAIL_DAYS
  const now = options.now.getTime()
  let isDirectory = false
  try {
    isDirectory = statSync(directory).isDirectory()
  } catch (error) {
    throw new InputError(`cannot read the Defender certificate directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, directory)
  }
  if (!isDirectory) throw new InputError('not a directory (a Defender certificate directory holds defender-ca.pem, defender-client-cert.pem, defender-client-key.pem)', directory)

  let omitted = 0
  const readBundle = (name: string): X509Certificate[] => {
    const file = join(directory, name)
    const text = readCertFile(file, name).toString('latin1')
    const blocks = text.match(PEM_CERTIFICATE) ?? []
    if (blocks.length === 0) throw new InputError('no PEM certificate (-----BEGIN CERTIFICATE-----) in it', file)
    omitted += Math.max(0, blocks.length - MAX_CA_BUNDLE_CERTIFICATES)
    return blocks.slice(0, MAX_CA_BUNDLE_CERTIFICATES).map((block, index) => {
      try {
        return new X509Certificate(block)
      } catch (error) {
        throw new InputError(`certificate ${index + 1} is not a valid X.509 certificate: ${(error as Error).message}`, file)
      }
    })
  }
  const present = (names: string[]): string[] => names.filter((name) => existsSync(join(directory, name)))

  const currentCas = readBundle(DEFENDER_CERT_FILES.ca)
  const client = readBundle(DEFENDER_CERT_FILES.cert)[0]!
  const oldCaFiles = present(OLD_CA_FILES).map((file) => ({file, cas: readBundle(file)}))
  const oldClientFiles = present(OLD_CLIENT_FILES).map((file) => ({file, cert: readBundle(file)[0]!}))

  // The chain (RFC 5280 §6.1, one step: a Defender's client certificate is issued by the CA itself).
  const issuedBy = (cert: X509Certificate, cas: X509Certificate[]): X509Certificate | undefined => cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))
  const currentIssuer = issuedBy(client, currentCas)
  const oldIssuer = currentIssuer === undefined ? oldCaFiles.map(({cas}) => issuedBy(client, cas)).find((ca) => ca !== undefined) : undefined
  const generation: 'current' | 'old' | 'none' = currentIssuer ? 'current' : oldIssuer ? 'old' : 'none'

  const certificates: DirectoryCertificate[] = []
  const add = (role: CertRole, file: string, x509: X509Certificate, onPath: boolean, certGeneration: 'current' | 'old' | undefined, offPathReason?: string) => {
    const summary = summarizeX509(x509)
    const judged = judgeValidity(summary.validFrom, summary.validTo, now, {warnDays, failDays})
    const {daysLeft} = judged
    const status: CertStatus = onPath ? judged.status : 'pass'
    const reason = onPath ? judged.reason : `${daysLeftText(daysLeft)}; ${offPathReason ?? 'not on this Defender\'s path'}, so it does not count`
    certificates.push({role, file, ...(certGeneration ? {generation: certGeneration} : {}), onPath, subject: summary.subject, issuer: summary.issuer, notBefore: summary.validFrom, notAfter: summary.validTo, daysLeft, status, reason, sha256: summary.sha256})
  }

  add('client', DEFENDER_CERT_FILES.cert, client, true, generation === 'none' ? undefined : generation)
  // defender-ca.pem also verifies the Console, so a single CA there is always on the path; in a
  // bundle of several, the one that issued the client certificate is.
  for (const ca of currentCas) add('ca', DEFENDER_CERT_FILES.ca, ca, currentCas.length === 1 || ca === currentIssuer || currentIssuer === undefined, 'current', 'another CA of the bundle issued the client certificate')
  for (const {file, cas} of oldCaFiles) {
    for (const ca of cas) add('ca-old', file, ca, ca === oldIssuer, 'old', 'the client certificate was not issued by it')
  }
  for (const {file, cert} of oldClientFiles) {
    const certGeneration = issuedBy(cert, currentCas) ? 'current' : oldCaFiles.some(({cas}) => issuedBy(cert, cas)) ? 'old' : undefined
    add('client-old', file, cert, false, certGeneration, 'the previous client certificate, no longer used')
  }

  // The key: decrypted as `probe --defender-certs` does, only to compare it with the certificate.
  const keyFile = join(directory, DEFENDER_CERT_FILES.key)
  const keyPem = readCertFile(keyFile, DEFENDER_CERT_FILES.key).toString('latin1')
  const encrypted = isEncrypted(keyPem)
  const plainKey = decryptPrivateKey(keyPem, encrypted ? readDefenderPassphrase(directory) : undefined, keyFile)
  const matches = client.checkPrivateKey(createPrivateKey(plainKey))
  const key = {
    file: DEFENDER_CERT_FILES.key,
    encrypted,
    matchesCertificate: matches,
    status: (matches ? 'pass' : 'fail') as CertStatus,
    reason: matches
      ? `the key belongs to ${DEFENDER_CERT_FILES.cert}${encrypted ? ` (encrypted; decrypted with ${DEFENDER_CERT_FILES.passphrase})` : ''}`
      : `the key does not belong to ${DEFENDER_CERT_FILES.cert}: the TLS handshake will fail (the Console cannot verify the client's CertificateVerify, RFC 8446 §4.4.3); redeploy the Defender`,
  }

  const chainsToOld = oldCaFiles.length === 0 ? null : oldIssuer !== undefined || oldCaFiles.some(({cas}) => issuedBy(client, cas) !== undefined)
  const chain = {
    chainsToCurrent: currentIssuer !== undefined,
    chainsToOld,
    generation,
    status: (generation === 'none' ? 'fail' : 'pass') as CertStatus,
    reason:
      generation === 'current'
        ? `issued by ${DEFENDER_CERT_FILES.ca} (${oneName(currentIssuer!)})`
        : generation === 'old'
          ? `issued by the old CA (${oneName(oldIssuer!)}), not by ${DEFENDER_CERT_FILES.ca}: the Defender was not redeployed after the CA rotation and stops connecting when the old CA expires`
          : `issued by none of ${[DEFENDER_CERT_FILES.ca, ...oldCaFiles.map(({file}) => file)].join(', ')} (its issuer is ${oneName(client, 'issuer')}): the Console will refuse it`,
  }

  // The forecast: the earliest expiry among what this Defender's connection depends on.
  const forecast = forecastOf(certificates.filter((cert) => cert.onPath).map((cert) => ({...cert, where: cert.file})), now)!

  const statuses = [...certificates.filter((cert) => cert.onPath).map((cert) => cert.status), key.status, chain.status]
  const verdict: CertStatus = statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass'
  return {
    schemaVersion: 1,
    tool: {name: 'defender-check', version: TOOL_VERSION},
    directory,
    now: isoDate(options.now),
    thresholds: {warnDays, failDays},
    certificates,
    ...(omitted > 0 ? {omittedCertificates: omitted} : {}),
    key,
    chain,
    forecast,
    verdict,
  }
}

function readCertFile(file: string, name: string): Buffer {
  let size: number
  try {
    size = statSync(file).size
  } catch (error) {
    throw new InputError(`cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, file)
  }
  if (size > MAX_CERT_FILE_BYTES) throw new InputError(`${size} bytes: larger than a certificate or key file can be (limit ${MAX_CERT_FILE_BYTES} bytes); not read`, file)
  return readInput(file, name)
}

function oneName(x509: X509Certificate, which: 'subject' | 'issuer' = 'subject'): string {
  return x509[which].split('\n').join(', ')
}
