/**
 * TLS facts: what the TLS readers learn about one connection. Produced by protocols/tls from the
 * reassembled byte streams; read by analysis/ and checks/. Numbers are IANA code points; names
 * come from the tables in protocols/tls/iana (unknown values are shown as 0xHHHH).
 */
import type {HoldsCappedLists} from '../../lists.js'
import type {Direction, FrameRef, Side} from '../../stream/types.js'

/** A TLS record as seen on the wire (header only). */
export interface TlsRecordRef extends FrameRef {
  direction: Direction
  /** 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data (RFC 8446 §5.1). */
  contentType: number
  /** Record-layer legacy version. */
  version: number
  /** Fragment length (bytes after the 5-byte header). */
  length: number
}

/** A handshake message, plaintext or (later) decrypted. */
export interface HandshakeMessageRef extends FrameRef {
  direction: Direction
  /** HandshakeType (RFC 8446 §4). */
  type: number
  typeName: string
  /** Body length (without the 4-byte header). */
  length: number
  /** true when read from decrypted records. */
  decrypted: boolean
}

export interface ClientHelloInfo extends FrameRef {
  legacyVersion: number
  /** 32 bytes, hex. */
  random: string
  sessionIdLength: number
  cipherSuites: number[]
  compressionMethods: number[]
  /** Extension types in the order sent. */
  extensions: number[]
  sni?: string
  alpn?: string[]
  /** supported_versions (RFC 8446 §4.2.1), in order, GREASE included. */
  supportedVersions?: number[]
  supportedGroups?: number[]
  /** Groups of the key_share entries (RFC 8446 §4.2.8). */
  keyShareGroups?: number[]
  signatureAlgorithms?: number[]
  pskKeyExchangeModes?: number[]
  ecPointFormats?: number[]
  /** Offers TLS 1.3 (0x0304 in supported_versions). */
  offersTls13: boolean
  /** Any GREASE value (RFC 8701) present. */
  grease: boolean
  /** JA3 string and MD5 (Salesforce definition). */
  ja3: string
  ja3Hash: string
  /** JA4 and JA4_r (FoxIO, BSD-3-Clause part only). */
  ja4: string
  ja4r: string
}

export interface ServerHelloInfo extends FrameRef {
  legacyVersion: number
  random: string
  /** Negotiated version: supported_versions if present, else legacy_version. */
  version: number
  cipherSuite: number
  extensions: number[]
  keyShareGroup?: number
  alpn?: string
  /** The random equals the HelloRetryRequest constant (RFC 8446 §4.1.3). */
  helloRetryRequest: boolean
  ja3s: string
  ja3sHash: string
}

export interface TlsAlertInfo extends FrameRef {
  from: Side
  /** 1 warning, 2 fatal. */
  level: number
  /** AlertDescription (RFC 8446 §6). */
  description: number
  descriptionName: string
  /** Read from a decrypted record. */
  decrypted: boolean
}

/** An X.509 certificate parsed into facts (node-forge). */
export interface CertificateInfo {
  subject: string
  /** Subject common name, when present. */
  commonName?: string
  issuer: string
  /** DNS names and IP addresses from subjectAltName. */
  sans: string[]
  serialNumber: string
  /** ISO-8601. */
  notBefore: string
  notAfter: string
  keyType: string
  keyBits?: number
  signatureAlgorithm: string
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string
  /** DER, base64 — kept so analysis can verify the chain; never printed by the table. */
  derBase64: string
  /** The DER could not be parsed; the message says why. */
  parseError?: string
}

/** A Certificate handshake message (TLS 1.2 plaintext, or TLS 1.3 decrypted). */
export interface CertificateMessageInfo extends FrameRef {
  from: Side
  /** Leaf first, as sent. Empty when the client had no certificate to send. */
  certificates: CertificateInfo[]
  decrypted: boolean
}

export interface CertificateRequestInfo extends FrameRef {
  decrypted: boolean
  /** TLS 1.2 certificate_types / signature algorithms, when read. */
  signatureAlgorithms?: number[]
  /** Distinguished names of acceptable CAs, when read. */
  authorities?: string[]
}

/**
 * Decryption of one connection with a key log (added for issue 4, "See everything with keys").
 * Present once the connection reached a protected record while the reader had a KeyLookup
 * (TLS 1.3 after ServerHello, TLS 1.2 after ChangeCipherSpec), so checks can tell what they saw
 * from what they inferred.
 */
export interface TlsDecryptionFacts {
  /**
   * 'found': the key log held this session's secrets (by ClientHello.random); 'missing': it did
   * not (or no ClientHello was captured to look them up by); 'none': no key log at all (no
   * --keylog, no Decryption Secrets Block).
   */
  keys: 'found' | 'missing' | 'none'
  /** Protected records decrypted (both directions). */
  records: number
  /** Protected records that could not be decrypted; each stops decryption of its direction. */
  failures: number
  /** The first failure: DecryptError code ('bad-tag' = wrong keys…) or 'missing-secret'. */
  firstFailure?: {frame: number; code: string}
}

/** A decrypted Finished message and whether its verify_data matched (RFC 8446 §4.4.4, RFC 5246 §7.4.9). */
export type VerifiedFinished = FrameRef & {verified: boolean}

/** `truncated` counts what LIST_CAPS left out of clientHellos, alerts, records and handshakeMessages. */
export interface TlsFacts extends HoldsCappedLists {
  /** Every ClientHello (two when the server sent a HelloRetryRequest). */
  clientHellos: ClientHelloInfo[]
  serverHello?: ServerHelloInfo
  helloRetryRequest?: ServerHelloInfo
  /** Negotiated version (0x0304 = TLS 1.3) and its name ("TLS 1.3"). */
  version?: number
  versionName?: string
  cipherSuite?: number
  cipherSuiteName?: string
  changeCipherSpec: {c2s?: FrameRef; s2c?: FrameRef}
  alerts: TlsAlertInfo[]
  handshakeMessages: HandshakeMessageRef[]
  serverCertificate?: CertificateMessageInfo
  clientCertificate?: CertificateMessageInfo
  certificateRequest?: CertificateRequestInfo
  /** TLS 1.2 ServerKeyExchange (named curve when ECDHE). */
  serverKeyExchange?: FrameRef & {namedCurve?: number}
  /**
   * Records per direction, in order, up to a cap (the raw material for TLS 1.3 inference:
   * encrypted flight sizes and timing). `recordsTruncated` says the cap was reached.
   */
  records: TlsRecordRef[]
  recordsTruncated: boolean
  /** Totals per direction over the whole connection. */
  totals: Record<Direction, {records: number; bytes: number; applicationData: number; applicationDataBytes: number}>
  /**
   * The first handshake message refused for its length (over maxHandshakeMessageBytes): that
   * direction's handshake was not read further, so what it carried is unknown, not absent.
   */
  oversizedHandshake?: FrameRef & {direction: Direction; type: number; typeName: string; length: number; limit: number; decrypted: boolean}
  /** Decryption with a key log (see TlsDecryptionFacts); absent when nothing was protected or the reader had no KeyLookup. */
  decryption?: TlsDecryptionFacts
  /**
   * The Finished messages read from decrypted records, each verified against the transcript
   * with the sender's secret. A side is absent when its Finished was not decrypted.
   */
  finished?: {server?: VerifiedFinished; client?: VerifiedFinished}
  /**
   * The stream did not parse as TLS (e.g. plaintext HTTP on the port); first bytes hex. `ts` is
   * the time of `frame` (TlsConnectionReader always sets it; optional for facts built without it).
   */
  notTls?: {direction: Direction; frame: number; ts?: number; firstBytes: string}
}
