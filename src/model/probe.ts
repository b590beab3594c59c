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
  alert?: ReceivedAlert
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
  /** NSS key log of the probe's TLS secrets (--keylog, or the file capture --probe keeps for decryption). */
  keylogFile?: string
  issues: Issue[]
}
