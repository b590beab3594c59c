/**
 * X.509 certificates (RFC 5280) into CertificateInfo facts. The structure is walked with
 * node-forge's DER reader rather than forge.pki.certificateFromAsn1, because that one throws on
 * every non-RSA key ("OID is not RSA") and a Console may well serve an EC certificate. Reading the
 * fields ourselves keeps RSA, EC (named or explicit curves), EdDSA and unknown key types alike.
 * A DER that does not parse becomes a CertificateInfo with parseError: bad input is data.
 */
import {createHash} from 'node:crypto'
import {isIP} from 'node:net'
import {createRequire} from 'node:module'
import type forgeTypes from 'node-forge'
import type {CertificateInfo} from './types.js'

type Asn1 = forgeTypes.asn1.Asn1

/**
 * node-forge, loaded on the first certificate: most captures have none in the clear (TLS 1.3
 * without a key log), and loading it costs ~20 ms of every run's start.
 */
let forgeModule: typeof forgeTypes | undefined
function forge(): typeof forgeTypes {
  return (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof forgeTypes)
}

const CLASS_UNIVERSAL = 0x00
const CLASS_CONTEXT = 0x80

const TAG_INTEGER = 2
const TAG_BIT_STRING = 3
const TAG_OCTET_STRING = 4
const TAG_OID = 6
const TAG_SEQUENCE = 16
const TAG_SET = 17
const TAG_UTF8 = 12
const TAG_UNIVERSAL_STRING = 28
const TAG_BMP = 30
const TAG_UTC_TIME = 23
const TAG_GENERALIZED_TIME = 24

const OID_SUBJECT_ALT_NAME = '2.5.29.17'
const OID_COMMON_NAME = '2.5.4.3'

/** Attribute short names of RFC 4514 §3 (plus the two OpenSSL prints by name). */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
}

/** Signature algorithms (RFC 4055, RFC 5758, RFC 8410), named as OpenSSL names them. */
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
}

/** SubjectPublicKeyInfo algorithms (RFC 3279, RFC 4055, RFC 5480, RFC 8410). */
const KEY_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
}

/** Named curves (RFC 5480 §2.1.1.1) and their sizes. */
const CURVE_BITS: Record<string, number> = {
  '1.2.840.10045.3.1.7': 256, // P-256
  '1.3.132.0.34': 384, // P-384
  '1.3.132.0.35': 521, // P-521
  '1.3.132.0.10': 256, // secp256k1
}

/** The subjectAltName entries a TLS identity check uses (RFC 6125 §6.4, §6.2.1 for IPs). */
export interface SubjectAltNames {
  dnsNames: string[]
  /** Canonical text form (IPv6 compressed per RFC 5952, lowercase). */
  ipAddresses: string[]
}

export function parseCertificate(der: Uint8Array): CertificateInfo {
  const sha256 = createHash('sha256').update(der).digest('hex')
  const derBase64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  try {
    const fields = readCertificate(der)
    const info: CertificateInfo = {
      subject: fields.subject.text,
      issuer: fields.issuer.text,
      sans: [...fields.altNames.dnsNames, ...fields.altNames.ipAddresses],
      serialNumber: fields.serialNumber,
      notBefore: fields.notBefore.toISOString(),
      notAfter: fields.notAfter.toISOString(),
      keyType: fields.keyType,
      signatureAlgorithm: fields.signatureAlgorithm,
      sha256,
      derBase64,
    }
    if (fields.subject.commonName !== undefined) info.commonName = fields.subject.commonName
    if (fields.keyBits !== undefined) info.keyBits = fields.keyBits
    return info
  } catch (error) {
    return {
      subject: '',
      issuer: '',
      sans: [],
      serialNumber: '',
      notBefore: '',
      notAfter: '',
      keyType: '',
      signatureAlgorithm: '',
      sha256,
      derBase64,
      parseError: `not a valid X.509 certificate (${der.length} bytes): ${error instanceof Error ? error.message : String(error)}`,
    }
  }
}

/** The DNS and IP subjectAltNames of a certificate (the identity RFC 6125 matches against). */
export function readSubjectAltNames(der: Uint8Array): SubjectAltNames {
  return readCertificate(der).altNames
}

interface CertificateFields {
  subject: {text: string; commonName?: string}
  issuer: {text: string}
  altNames: SubjectAltNames
  serialNumber: string
  notBefore: Date
  notAfter: Date
  keyType: string
  keyBits?: number
  signatureAlgorithm: string
}

/**
 * DER to forge's ASN.1 tree, strictly: the whole input must be one value. decodeBitStrings off:
 * forge would otherwise try to read every BIT STRING (the key, the signature) as nested DER.
 */
function strictDer(der: Uint8Array): Asn1 {
  const fromDer = forge().asn1.fromDer as unknown as (bytes: forgeTypes.util.ByteBuffer, options: {strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean}) => Asn1
  return fromDer(forge().util.createBuffer(binaryString(der)), {strict: true, parseAllBytes: true, decodeBitStrings: false})
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 §4.1). */
function readCertificate(der: Uint8Array): CertificateFields {
  const root = strictDer(der)
  const [tbs, signatureAlgorithm] = children(root, TAG_SEQUENCE, 'Certificate', 3)
  const tbsFields = children(tbs, TAG_SEQUENCE, 'TBSCertificate', 6)
  // version [0] EXPLICIT is optional (absent means v1).
  let at = tbsFields[0].tagClass === CLASS_CONTEXT && tbsFields[0].type === 0 ? 1 : 0
  const serial = primitive(tbsFields[at++], TAG_INTEGER, 'serialNumber')
  at++ // signature AlgorithmIdentifier, repeated in the outer signatureAlgorithm
  const issuer = readName(tbsFields[at++], 'issuer')
  const [notBefore, notAfter] = children(tbsFields[at++], TAG_SEQUENCE, 'validity', 2).map(readTime)
  const subject = readName(tbsFields[at++], 'subject')
  const key = readPublicKey(tbsFields[at++])
  let altNames: SubjectAltNames = {dnsNames: [], ipAddresses: []}
  for (const field of tbsFields.slice(at)) {
    // extensions [3] EXPLICIT Extensions (v3 only); [1]/[2] are the unique identifiers.
    if (field.tagClass !== CLASS_CONTEXT || field.type !== 3) continue
    const [extensions] = children(field, -1, 'extensions', 1)
    for (const extension of children(extensions, TAG_SEQUENCE, 'Extensions', 0)) {
      const parts = children(extension, TAG_SEQUENCE, 'Extension', 2)
      if (readOid(parts[0]) !== OID_SUBJECT_ALT_NAME) continue
      const value = primitive(parts[parts.length - 1], TAG_OCTET_STRING, 'extnValue')
      altNames = readGeneralNames(forge().asn1.fromDer(value, true))
    }
  }
  return {
    subject,
    issuer,
    altNames,
    serialNumber: serialHex(serial),
    notBefore,
    notAfter,
    keyType: key.type,
    keyBits: key.bits,
    signatureAlgorithm: algorithmName(readOid(children(signatureAlgorithm, TAG_SEQUENCE, 'signatureAlgorithm', 1)[0])),
  }
}

function binaryString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

/** The children of a constructed node, with at least `min` of them; tag -1 accepts any tag. */
function children(node: Asn1 | undefined, tag: number, what: string, min: number): Asn1[] {
  if (!node || !Array.isArray(node.value) || (tag >= 0 && (node.tagClass !== CLASS_UNIVERSAL || node.type !== tag))) {
    throw new Error(`${what}: expected a constructed ${tag === TAG_SET ? 'SET' : 'SEQUENCE'}`)
  }
  if (node.value.length < min) throw new Error(`${what}: ${node.value.length} elements, expected at least ${min}`)
  return node.value
}

function primitive(node: Asn1 | undefined, tag: number, what: string): string {
  if (!node || typeof node.value !== 'string' || node.tagClass !== CLASS_UNIVERSAL || node.type !== tag) {
    throw new Error(`${what}: unexpected ASN.1 element`)
  }
  return node.value
}

function readOid(node: Asn1 | undefined): string {
  return forge().asn1.derToOid(primitive(node, TAG_OID, 'OBJECT IDENTIFIER'))
}

function readTime(node: Asn1): Date {
  const value = typeof node.value === 'string' ? node.value : ''
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  const date =
    node.type === TAG_UTC_TIME ? forge().asn1.utcTimeToDate(value) : node.type === TAG_GENERALIZED_TIME ? forge().asn1.generalizedTimeToDate(value) : undefined
  if (!date || Number.isNaN(date.getTime())) throw new Error('validity: not a UTCTime or GeneralizedTime')
  return date
}

/** INTEGER content as uppercase hex without the sign-padding zero byte (as `openssl x509 -serial`). */
function serialHex(content: string): string {
  const hex = forge().util.bytesToHex(content).toUpperCase()
  return hex.length > 2 && hex.startsWith('00') && parseInt(hex.slice(2, 4), 16) >= 0x80 ? hex.slice(2) : hex
}

function algorithmName(oid: string): string {
  return SIGNATURE_ALGORITHMS[oid] ?? (forge().pki.oids[oid] as string | undefined) ?? oid
}

/**
 * A DER Name on its own (a CertificateRequest's certificate_authorities, RFC 8446 §4.2.4 /
 * RFC 5246 §7.4.4) as RFC 4514 text — the same form as CertificateInfo.issuer, so an acceptable
 * CA can be compared with a certificate's issuer. Throws on malformed DER.
 */
export function distinguishedNameFromDer(der: Uint8Array): string {
  return readName(strictDer(der), 'Name').text
}

/**
 * Name ::= RDNSequence, rendered as RFC 4514 §2: RDNs most-specific first, separated by ',',
 * multi-valued RDNs joined by '+', special characters escaped.
 */
function readName(node: Asn1 | undefined, what: string): {text: string; commonName?: string} {
  const rdns: string[] = []
  let commonName: string | undefined
  for (const rdn of children(node, TAG_SEQUENCE, what, 0)) {
    const attributes: string[] = []
    for (const attribute of children(rdn, TAG_SET, what, 1)) {
      const [type, value] = children(attribute, TAG_SEQUENCE, what, 2)
      const oid = readOid(type)
      const text = readDirectoryString(value)
      // The most specific CN is the last one in DER order (RFC 6125 §2.3.1 speaks of "the" CN; several are rare).
      if (oid === OID_COMMON_NAME) commonName = text
      attributes.push(`${ATTRIBUTE_NAMES[oid] ?? oid}=${escapeRdnValue(text)}`)
    }
    rdns.push(attributes.join('+'))
  }
  return {text: rdns.reverse().join(','), commonName}
}

function readDirectoryString(node: Asn1): string {
  if (typeof node.value !== 'string') throw new Error('attribute value: expected a string')
  switch (node.type as number) {
    case TAG_UTF8:
      return forge().util.decodeUtf8(node.value)
    case TAG_BMP:
      return Buffer.from(node.value, 'latin1').swap16().toString('utf16le')
    case TAG_UNIVERSAL_STRING: {
      const bytes = Buffer.from(node.value, 'latin1')
      let text = ''
      for (let i = 0; i + 3 < bytes.length; i += 4) text += String.fromCodePoint(bytes.readUInt32BE(i))
      return text
    }
    default:
      // PrintableString, IA5String, TeletexString (treated as Latin-1, as OpenSSL does).
      return node.value
  }
}

/** RFC 4514 §2.4. */
function escapeRdnValue(value: string): string {
  let out = value.replace(/["+,;<>\\]/g, '\\$&').replace(/\0/g, '\\00')
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `
  return out
}

/** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): the key's algorithm and size. */
function readPublicKey(node: Asn1 | undefined): {type: string; bits?: number} {
  const [algorithm, keyBits] = children(node, TAG_SEQUENCE, 'subjectPublicKeyInfo', 2)
  const [oidNode, parameters] = children(algorithm, TAG_SEQUENCE, 'algorithm', 1)
  const oid = readOid(oidNode)
  const type = KEY_ALGORITHMS[oid] ?? oid
  // BIT STRING content: one "unused bits" byte, then the key.
  const key = primitive(keyBits, TAG_BIT_STRING, 'subjectPublicKey').slice(1)
  if (type === 'RSA' || type === 'RSA-PSS') {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1)
    const [modulus] = children(forge().asn1.fromDer(key, true), TAG_SEQUENCE, 'RSAPublicKey', 2)
    return {type, bits: integerBits(primitive(modulus, TAG_INTEGER, 'modulus'))}
  }
  if (type === 'EC') {
    // namedCurve OID (RFC 5480); explicit parameters (as in CVE-2020-0601 certificates) size from the point.
    const named = parameters && parameters.type === TAG_OID ? CURVE_BITS[readOid(parameters)] : undefined
    const pointBits = key.length > 1 && key.charCodeAt(0) === 0x04 ? ((key.length - 1) / 2) * 8 : undefined
    return {type, bits: named ?? pointBits}
  }
  if (type === 'Ed25519') return {type, bits: 256}
  if (type === 'Ed448') return {type, bits: 456}
  return {type}
}

function integerBits(content: string): number {
  let i = 0
  while (i < content.length - 1 && content.charCodeAt(i) === 0) i++
  const first = content.charCodeAt(i)
  return (content.length - i - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first))
}

/** GeneralNames (RFC 5280 §4.2.1.6): dNSName [2] IA5String, iPAddress [7] OCTET STRING. */
function readGeneralNames(node: Asn1): SubjectAltNames {
  const names: SubjectAltNames = {dnsNames: [], ipAddresses: []}
  for (const name of children(node, TAG_SEQUENCE, 'subjectAltName', 0)) {
    if (name.tagClass !== CLASS_CONTEXT || typeof name.value !== 'string') continue
    if (name.type === 2) names.dnsNames.push(name.value)
    else if (name.type === 7) {
      const ip = formatIpAddress(name.value)
      if (ip !== undefined) names.ipAddresses.push(ip)
    }
  }
  return names
}

function formatIpAddress(bytes: string): string | undefined {
  if (bytes.length === 4) return [...bytes].map((c) => c.charCodeAt(0)).join('.')
  if (bytes.length !== 16) return undefined
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes.charCodeAt(i) << 8) | bytes.charCodeAt(i + 1)).toString(16))
  return canonicalIp(groups.join(':'))
}

/**
 * The canonical text of an IP address (IPv6 compressed and lowercase per RFC 5952, as the WHATWG
 * URL parser writes it), so that addresses compare as text; undefined when it is not an address.
 */
export function canonicalIp(text: string): string | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, '$1')
  const family = isIP(bare)
  if (family === 4) return bare
  if (family === 6) return new URL(`http://[${bare}]/`).hostname.slice(1, -1)
  return undefined
}
