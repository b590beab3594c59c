/**
 * The active probe's model: what `defender-check probe` did and saw, phase by phase. The probe is
 * a party to the connection (it is the client), so it reads every byte of its own handshake: its
 * checks are built from these facts (src/checks/probe/, in the catalogue) the way analyze's checks are built from
 * ConnectionFacts. A phase that is absent was not attempted; a phase with `error` failed.
 *
 * Key names deliberately differ from ConnectionFacts' `tls`/`ws` (whose shapes the renderers
 * read); `tcp.startTs`/`tcp.endTs` and `issues` are shared so the table's connection header works.
 */
import type {Issue} from '../issues.js'
import type {Endpoint} from '../stream/types.js'

/** Why a phase failed: a stable code (ECONNREFUSED, ETIMEDOUT, ENOTFOUND, UNABLE_TO_VERIFY_LEAF_SIGNATURE...) and the cause in words. */
export interface ProbeFailure {
  code: string
  message: string
}

export interface ProbePhase {
  /** Time the phase took, or ran before it failed. */
  ms?: number
  error?: ProbeFailure
}

/** What the probe was asked to reach, parsed from the URL. */
export interface ProbeTarget {
  /** Normalised wss:// URL. */
  url: string
  host: string
  port: number
  /** Path and query of the upgrade request. */
  path: string
  /** SNI and the name the certificate must carry (--servername, else the host when it is a name). */
  servername?: string
}

export interface DnsFacts extends ProbePhase {
  /** The name looked up (the Console's, or the proxy's when one is used). */
  name: string
  /** The name is an IP address: nothing to look up. */
  literal: boolean
  addresses: Array<{address: string; family: 4 | 6}>
}

export interface ConnectAttempt {
  address: string
  ms: number
  error?: ProbeFailure
}

export interface ProbeTcpFacts extends ProbePhase {
  /** Seconds since the epoch: the probe's start and end (the connection header reads these). */
  startTs: number
  endTs: number
  /** Addresses tried in DNS order; the first that answered is the connection. */
  attempts: ConnectAttempt[]
  local?: Endpoint
  remote?: Endpoint
  /** The remote is an HTTP proxy, not the Console. */
  viaProxy: boolean
}

export interface ProxyFacts extends ProbePhase {
  /** Proxy URL without credentials. */
  url: string
  /** Where it came from: --proxy or the HTTPS_PROXY environment variable. */
  from: 'flag' | 'env'
  basicAuth: boolean
  /** The CONNECT request's target, host:port. */
  authority: string
  status?: number
  statusText?: string
}

export interface CertificateSummary {
  subject: string
  issuer: string
  validFrom: string
  validTo: string
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string
  subjectAltName?: string
}

/** A TLS alert the server sent, as OpenSSL reported it. */
export interface ReceivedAlert {
  description: number
  name: string
  /** The probe phase during which it arrived (TLS 1.3 servers judge the client certificate after the client's Finished). */
  during: 'tls' | 'ws.upgrade' | 'ws.ping' | 'ws.session'
}

export interface HandshakeFacts extends ProbePhase {
  minVersion: '1.2' | '1.3'
  servername?: string
  version?: string
  cipher?: string
  alpn?: string
  peerCertificate?: CertificateSummary
  /** Subjects from the leaf up, as presented. */
  peerChain?: string[]
  /** Where the chain was verified against: the --ca file, the defender-ca.pem bundle, or node's built-in roots. */
  trust: string
  /** OpenSSL's verdict on the chain (undefined when no certificate was received). */
  chainVerified?: boolean
  /** OpenSSL's verification error code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED. */
  chainError?: string
  /** node:tls checkServerIdentity's verdict for `servername` (or the IP). */
  nameError?: string
  /** --insecure: certificate failures were turned into warnings and the probe went on. */
  insecure: boolean
  /** The server sent a CertificateRequest (OpenSSL fills the shared signature algorithms only then). */
  clientCertificateRequested?: boolean
  /** The certificate the probe had to offer (sent only when requested). */
  clientCertificate?: CertificateSummary
  /**
   * The issuer of clientCertificate rendered as the CertificateRequest's CA names are (RFC 4514,
   * protocols/tls/x509), so the two compare as strings.
   */
  clientCertificateIssuerName?: string
  /** The Console's CertificateRequest as the probe's TLS reader read it from its own handshake bytes. */
  certificateRequest?: CertificateRequestFacts
  alert?: ReceivedAlert
}

/**
 * The Console's CertificateRequest, read from the probe's own handshake: node:tls exposes neither
 * the message nor its CA names, so the probe keeps its socket's bytes and its session's key log
 * (in memory only) and reads them with the project's TLS reader (src/protocols/tls): TLS 1.3
 * decrypted (certificate_authorities extension, RFC 8446 §4.2.4, §4.3.2), TLS 1.2 in the clear
 * (certificate_authorities list, RFC 5246 §7.4.4).
 */
export interface CertificateRequestFacts {
  /**
   * read: the message was read; not-sent: the server's whole flight was read (up to its Finished,
   * or ServerHelloDone in TLS 1.2) and had none, so the server did not ask; unreadable: why in
   * `reason`.
   */
  state: 'read' | 'not-sent' | 'unreadable'
  /** The CA names it lists (RFC 4514), in order; absent when it names none (any issuer will do). */
  authorities?: string[]
  /** Read from decrypted records (TLS 1.3). */
  decrypted?: boolean
  /** Why it could not be read (state unreadable). */
  reason?: string
}

/** Which certificate of the probe's connection a ProbeCertificate is. */
export type ProbeCertificateRole = 'client' | 'ca' | 'console' | 'console-chain'

/** A certificate the probe used (its client certificate, the CA bundle) or was shown (the Console's chain). */
export interface ProbeCertificate extends CertificateSummary {
  role: ProbeCertificateRole
  /** The file it came from, or "the Console" for what the server presented. */
  source: string
  /**
   * Whether its expiry stops this Defender's connection: the client certificate, the bundle's CA
   * that issued it, the Console's chain and the bundle's CA that anchors it.
   */
  onPath: boolean
}

/**
 * The Console's clock as its answer to the upgrade stated it: the HTTP Date header (RFC 9110
 * §6.6.1, one-second resolution) and this host's clock around the exchange.
 */
export interface ClockFacts {
  /** The Date header as received; absent when the response had none. */
  date?: string
  /** This host's clock when the upgrade request was sent and when the response headers arrived (ISO-8601, ms). */
  requestSentAt: string
  responseAt: string
  /** The status of the response the header came with (101, or what the server answered instead). */
  status: number
}

export interface UpgradeFacts extends ProbePhase {
  path: string
  status?: number
  statusText?: string
  /** Response headers, lower-case names (for a refused upgrade: what the server said instead). */
  headers?: Record<string, string>
  protocol?: string
  extensions?: string
}

export interface PingFacts extends ProbePhase {
  rttMs?: number
}

export interface SessionFacts extends ProbePhase {
  /** How long the session was held open (ms), as asked. */
  holdMs: number
  pings: number
  pongs: number
  maxRttMs?: number
  /** The session ended early: close code and reason, or the socket error. */
  closeCode?: number
  closeReason?: string
}

export interface ProbeFacts {
  kind: 'probe'
  target: ProbeTarget
  startedAt: string
  endedAt: string
  dns: DnsFacts
  tcp: ProbeTcpFacts
  proxy?: ProxyFacts
  handshake?: HandshakeFacts
  upgrade?: UpgradeFacts
  ping?: PingFacts
  session?: SessionFacts
  /** The close handshake at the end: the code the server answered (1000 = normal). */
  closeCode?: number
  /** The Console's clock, from its response to the upgrade (checks/probe/clock-skew.ts). */
  clock?: ClockFacts
  /** The certificates the probe used and was shown, with their validity (checks/probe/certs-lifetime.ts). */
  certificates?: ProbeCertificate[]
  /** Certificates of the CA bundle beyond MAX_CA_BUNDLE_CERTIFICATES, not read. */
  omittedCertificates?: number
  /** NSS key log of the probe's TLS secrets (--keylog, or the file capture --probe keeps for decryption). */
  keylogFile?: string
  issues: Issue[]
}
