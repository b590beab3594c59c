/**
 * The report of `certs DIR`: a Defender's certificate directory judged against a date (README
 * "Check a Defender's certificates"; the JSON shape is schema/certs.schema.json).
 */

export type CertStatus = 'pass' | 'warn' | 'fail'

/** What a file in the directory is. */
export type CertRole = 'ca' | 'client' | 'ca-old' | 'client-old'

export interface DirectoryCertificate {
  role: CertRole
  /** The file's name in the directory. */
  file: string
  /** Which CA generation the certificate belongs to: defender-ca.pem's (current) or a .old CA's (old); undefined when neither issued it. */
  generation?: 'current' | 'old'
  /** Whether its expiry stops this Defender: the client certificate, its issuing CA and defender-ca.pem. */
  onPath: boolean
  subject: string
  issuer: string
  notBefore: string
  notAfter: string
  /** Whole days from the report's `now` to notAfter, negative once expired. */
  daysLeft: number
  /** By the thresholds when on the path; a certificate off the path is `pass` with a reason saying it does not count. */
  status: CertStatus
  reason: string
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string
}

export interface CertsReport {
  schemaVersion: 1
  tool: {name: string; version: string}
  directory: string
  /** The date the validity was judged at (now, or DEFENDER_CHECK_NOW in tests). */
  now: string
  thresholds: {warnDays: number; failDays: number}
  certificates: DirectoryCertificate[]
  /** Certificates of a CA bundle beyond MAX_CA_BUNDLE_CERTIFICATES, not read. */
  omittedCertificates?: number
  key: {file: string; encrypted: boolean; matchesCertificate: boolean; status: CertStatus; reason: string}
  chain: {chainsToCurrent: boolean; chainsToOld: boolean | null; generation: 'current' | 'old' | 'none'; status: CertStatus; reason: string}
  forecast: {date: string; daysLeft: number; limitedBy: string; line: string}
  verdict: CertStatus
}
