/**
 * Certificate policy: is the server certificate the Console's? Everything that needs crypto or a
 * file happens here (the checks are pure and only read the verdict): host name / IP identity
 * (RFC 6125 §6.4), validity at the capture time, a chain to the --ca bundle (node:crypto, which
 * verifies RSA and EC signatures alike) and an optional SHA-256 pin.
 */
import {isCaptureTimeInRange, isoDate} from '../time.js'
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import type {CertificateInfo} from '../protocols/tls/types.js'
import {InputError} from '../errors.js'
import {canonicalIp, parseCertificate, readSubjectAltNames} from '../protocols/tls/x509.js'
import type {CertificateVerdict} from '../model/facts.js'

/** A loaded --ca PEM bundle. */
export interface CaBundle {
  file: string
  certificates: Array<{x509: X509Certificate; info: CertificateInfo}>
}

export interface EvaluateOptions {
  consoleName?: string
  consoleIp?: string
  ca?: CaBundle
  /** sha256:HEX, colons and case free. */
  pin?: string
  /** The capture time: validity is judged then, not now. */
  at: Date
}

const DAY_MS = 86_400_000
const MAX_CHAIN_DEPTH = 10

/** Reads a PEM bundle of CA certificates; an unusable file is an InputError naming it. */
export function loadCaBundle(pemFile: string): CaBundle {
  let text: string
  try {
    text = readFileSync(pemFile, 'latin1')
  } catch (error) {
    throw new InputError(`cannot read the CA bundle (--ca): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, pemFile)
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new InputError('no PEM certificate (-----BEGIN CERTIFICATE-----) in the CA bundle (--ca)', pemFile)
  const certificates = blocks.map((block, i) => {
    const base64 = block.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')
    const der = Buffer.from(base64, 'base64')
    const info = parseCertificate(der)
    if (info.parseError) throw new InputError(`certificate #${i + 1} of the CA bundle (--ca): ${info.parseError}`, pemFile)
    try {
      return {x509: new X509Certificate(der), info}
    } catch (error) {
      throw new InputError(`certificate #${i + 1} (${info.subject}) of the CA bundle (--ca): ${(error as Error).message}`, pemFile)
    }
  })
  return {file: pemFile, certificates}
}

/** Judges the server's chain (leaf first, as presented on the wire). */
export function evaluateServerCertificate(chain: CertificateInfo[], opts: EvaluateOptions): CertificateVerdict {
  const at = opts.at.getTime()
  const leaf = chain[0]
  const verdict: CertificateVerdict = {
    at: isoDate(opts.at),
    presentedNames: [],
    validAtCapture: false,
    notYetValid: false,
    expired: false,
    expiresInDays: 0,
  }
  if (!leaf || leaf.parseError) {
    verdict.parseError = leaf?.parseError ?? 'no certificate in the chain'
    return verdict
  }
  const notBefore = Date.parse(leaf.notBefore)
  const notAfter = Date.parse(leaf.notAfter)
  if (isCaptureTimeInRange(at / 1000)) {
    verdict.notYetValid = at < notBefore
    verdict.expired = at > notAfter
    verdict.validAtCapture = !verdict.notYetValid && !verdict.expired
    verdict.expiresInDays = Math.floor((notAfter - at) / DAY_MS)
  } else verdict.captureTimeOutOfRange = true

  const leafDer = Buffer.from(leaf.derBase64, 'base64')
  const altNames = readSubjectAltNames(leafDer)
  const identity: PresentedIdentity = {...altNames, commonName: leaf.commonName}
  verdict.presentedNames = presentedNames(identity)
  const reference = opts.consoleIp ?? opts.consoleName
  if (reference !== undefined) {
    verdict.expectedName = reference
    const matched = opts.consoleIp !== undefined ? matchIp(identity, opts.consoleIp) : matchDnsName(identity, opts.consoleName!)
    verdict.nameMatches = matched !== undefined
    if (matched !== undefined) verdict.matchedName = matched
  }

  if (opts.pin !== undefined) verdict.pinMatches = normalizePin(opts.pin) === leaf.sha256

  if (opts.ca) {
    const result = verifyChain(chain, opts.ca, at)
    verdict.chainVerified = result.ok
    verdict.issuerIsExpectedCa = result.issuerInBundle
    if (result.ok) verdict.chainPath = result.path
    else verdict.chainError = result.error
    if (!result.ok && !result.issuerInBundle) {
      verdict.likelyCause = 'foreign-issuer'
      verdict.likelyCauseText =
        `the issuer "${result.topIssuer}" is not the Console CA (${opts.ca.file}): ` +
        'a TLS-inspecting proxy or a load balancer terminating TLS is presenting its own certificate; ' +
        'exempt the Console from TLS inspection, or pass TLS through to the Console instead of terminating it'
    }
  }
  return verdict
}

/** What a certificate offers for identity checks (RFC 6125 §6.4). */
export interface PresentedIdentity {
  dnsNames: string[]
  ipAddresses: string[]
  commonName?: string
}

/** The names RFC 6125 lets a client match: DNS SANs, else the CN (§6.4.4); plus IP SANs. */
function presentedNames(identity: PresentedIdentity): string[] {
  const dns = identity.dnsNames.length > 0 ? identity.dnsNames : identity.commonName !== undefined ? [identity.commonName] : []
  return [...dns, ...identity.ipAddresses]
}

/**
 * RFC 6125 §6.4: the reference name against the DNS SANs, or the CN only when there is no DNS SAN
 * (§6.4.4); case-insensitive (§6.4.1); a wildcard only as the complete left-most label, standing
 * for exactly one label (§6.4.3 allows `foo*` partial wildcards, which we, like browsers, do not).
 * Returns the presented name that matched.
 */
export function matchDnsName(identity: PresentedIdentity, referenceName: string): string | undefined {
  const reference = referenceName.toLowerCase().replace(/\.$/, '')
  if (canonicalIp(reference) !== undefined) return undefined
  const candidates = identity.dnsNames.length > 0 ? identity.dnsNames : identity.commonName !== undefined ? [identity.commonName] : []
  return candidates.find((presented) => dnsNameMatches(presented, reference))
}

function dnsNameMatches(presentedName: string, reference: string): boolean {
  const presented = presentedName.toLowerCase().replace(/\.$/, '')
  if (!presented.startsWith('*.')) return presented === reference
  const rest = presented.slice(2)
  // The wildcard needs at least two labels after it (no "*.com") and stands for one non-empty label.
  if (!rest.includes('.') || rest.includes('*')) return false
  const dot = reference.indexOf('.')
  return dot > 0 && reference.slice(dot + 1) === rest
}

/** RFC 6125 §6.2.1 / RFC 5280 §4.2.1.6: an IP reference matches only an iPAddress SAN, by value. */
export function matchIp(identity: PresentedIdentity, referenceIp: string): string | undefined {
  const reference = canonicalIp(referenceIp)
  if (reference === undefined) return undefined
  return identity.ipAddresses.find((ip) => ip === reference)
}

/** `sha256:HEX` with or without colons, any case → lowercase hex. */
function normalizePin(pin: string): string {
  return pin.trim().replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase()
}

type ChainResult = {ok: true; path: string[]; issuerInBundle: true} | {ok: false; error: string; issuerInBundle: boolean; topIssuer: string}

/**
 * Builds a path from the leaf through the presented certificates to a CA of the bundle,
 * verifying each signature with the issuer's key. The issuing certificates must be CAs and valid
 * at the capture time; the leaf's own validity is reported separately (validAtCapture).
 */
function verifyChain(chain: CertificateInfo[], ca: CaBundle, at: number): ChainResult {
  const presented: Array<{x509: X509Certificate; info: CertificateInfo}> = []
  for (const info of chain) {
    if (info.parseError) continue
    try {
      presented.push({x509: new X509Certificate(Buffer.from(info.derBase64, 'base64')), info})
    } catch {
      // A certificate OpenSSL refuses cannot be on a verified path; the path search skips it.
    }
  }
  const leaf = presented[0]
  if (!leaf || leaf.info !== chain[0]) {
    return {ok: false, error: 'the server certificate could not be loaded for verification', issuerInBundle: false, topIssuer: chain[0]?.issuer ?? ''}
  }
  const path = [leaf]
  // A problem with an intermediate matters only if the path reaches the bundle; otherwise the
  // foreign issuer is the finding (an expired proxy CA is still a proxy CA).
  let intermediateProblem: string | undefined
  let current = leaf
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const anchor = ca.certificates.find((c) => issuedBy(current.x509, c.x509))
    if (anchor) {
      const problem = intermediateProblem ?? issuerProblem(anchor, at, true)
      if (problem) return {ok: false, issuerInBundle: true, topIssuer: anchor.info.subject, error: problem}
      path.push(anchor)
      return {ok: true, path: path.map((c) => c.info.subject), issuerInBundle: true}
    }
    const issuer = presented.find((c) => !path.includes(c) && issuedBy(current.x509, c.x509))
    if (!issuer) {
      if (ca.certificates.some((c) => c.info.subject === current.info.issuer)) {
        return {
          ok: false,
          issuerInBundle: true,
          topIssuer: current.info.issuer,
          error: `"${current.info.subject}" names "${current.info.issuer}" of ${ca.file} as issuer, but its signature does not verify with that CA's key`,
        }
      }
      return {
        ok: false,
        issuerInBundle: false,
        topIssuer: current.info.issuer,
        error: `no CA of ${ca.file} issued "${current.info.subject}" (its issuer is "${current.info.issuer}")`,
      }
    }
    intermediateProblem ??= issuerProblem(issuer, at, false)
    path.push(issuer)
    current = issuer
  }
  return {ok: false, issuerInBundle: false, topIssuer: current.info.issuer, error: `no CA of ${ca.file} within ${MAX_CHAIN_DEPTH} certificates`}
}

/** `issuer` is the subject's issuer by name/key identifier and its key verifies the signature. */
function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey)
  } catch {
    // OpenSSL refuses some keys (e.g. EC with explicit parameters, CVE-2020-0601): not a verified issuer.
    return false
  }
}

/** A trust anchor is trusted as given (old v1 roots carry no basicConstraints); intermediates must be CAs. */
function issuerProblem(issuer: {x509: X509Certificate; info: CertificateInfo}, at: number, isAnchor: boolean): string | undefined {
  if (!isAnchor && !issuer.x509.ca) return `"${issuer.info.subject}" signed the certificate below it but is not a CA (basicConstraints)`
  if (at < Date.parse(issuer.info.notBefore)) return `the CA "${issuer.info.subject}" was not yet valid at the capture time (notBefore ${issuer.info.notBefore})`
  if (at > Date.parse(issuer.info.notAfter)) return `the CA "${issuer.info.subject}" had expired at the capture time (notAfter ${issuer.info.notAfter})`
  return undefined
}
