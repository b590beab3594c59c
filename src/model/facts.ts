/**
 * ConnectionFacts: the single model the checks read, assembled by analysis/ from the stream
 * tracker and the protocol readers, and the facts derived from them once (DerivedFacts).
 */
import type {Issue} from '../issues.js'
import type {HoldsCappedLists} from '../lists.js'
import type {TunnelInfo} from '../packet/types.js'
import type {Endpoint, HairpinFacts, TcpFacts, TcpFlagEvent} from '../stream/types.js'
import type {Tls13RecordSizes} from '../protocols/tls/record-sizes.js'
import type {TlsFacts, TlsRecordRef} from '../protocols/tls/types.js'
import type {ProxyFacts} from '../protocols/proxy/types.js'
import type {HttpUpgradeFacts} from '../protocols/http/types.js'
import type {WebSocketFacts} from '../protocols/websocket/types.js'

/** `truncated.issues` counts the issues the readers left out (LIST_CAPS.issuesPerSource each). */
export interface ConnectionFacts extends HoldsCappedLists {
  id: number
  client: Endpoint
  server: Endpoint
  /** ISO-8601 times of the first and last packet. */
  startedAt: string
  endedAt: string
  tunnels?: TunnelInfo[]
  /**
   * The return leg: the tunnels of the first packet from the side that did not send the first
   * packet, kept only when they carry GENEVE options (so captures whose tunnels have none report
   * as before). In tcpdump-geneve.pcap the client's packets come in VNI 11 without options and
   * the server's in VNI 10 with one: `tunnels` is VNI 11, `replyTunnels` VNI 10.
   */
  replyTunnels?: TunnelInfo[]
  /** Only when the connection was redirected through a Microperimeter firewall (GENEVE option 0x20): the hairpin, its copies counted once (stream/hairpin.ts). */
  hairpin?: HairpinFacts
  /** An HTTP CONNECT or SOCKS exchange with a proxy before TLS (the TCP server is then the proxy). */
  proxy?: ProxyFacts
  /**
   * When the whole capture ended (seconds since the epoch): a SYN unanswered 50 ms before the
   * end proves nothing, one unanswered for 3 s does.
   */
  captureEndTs?: number
  tcp: TcpFacts
  /**
   * Only when the capture shows that something other than the endpoint that carried the session
   * answered its handshake or reset it (analysis/answered-by.ts; the path.answered-by check).
   */
  answeredBy?: AnsweredBy
  /** Present when the connection carried TLS (or bytes that were expected to be TLS). */
  tls?: TlsFacts
  /** Certificate policy verdicts (name, validity at capture time, chain, pin), when a certificate was read. */
  certificates?: CertificateFacts
  /** The HTTP upgrade request and response (decrypted, or cleartext on a ws:// port). */
  http?: HttpUpgradeFacts
  /** WebSocket frames after the 101: counts, pings/pongs, close. */
  ws?: WebSocketFacts
  issues: Issue[]
  /**
   * What the checks and the ladder read that is worked out from the facts above (the TLS 1.3
   * flights, the upgrade flow, the snaplen cut), each at most once per connection, when first
   * read (analysis/derive.ts). Under a symbol key: JSON.stringify, Object.keys, the schema and
   * every writer skip it, so it never reaches an output; a structuredClone or a report read back
   * from JSON has none (derive again, analysis/derive.ts derivedOf).
   */
  readonly [DERIVED]: DerivedFacts
}

/** Who answered the handshake or sent a reset, when it was not the endpoint that carried the session. */
export interface AnsweredBy {
  /** At most one finding per kind, in the order local-proxy, early-handshake, handshake-elsewhere, injected-reset. */
  findings: AnsweredByFinding[]
}

/**
 * local-proxy: a SYN-ACK zero routers away in microseconds from a remote address, the responses
 * much later; early-handshake: the handshake answered much faster than any later request, by a
 * device routers away; handshake-elsewhere: the SYN-ACK's TTL or timestamps option differ from
 * the server's later packets; injected-reset: a RST whose TTL differs from every other packet of
 * its side.
 */
export type AnsweredByKind = 'local-proxy' | 'early-handshake' | 'handshake-elsewhere' | 'injected-reset'

export interface AnsweredByFinding {
  kind: AnsweredByKind
  /** What the capture shows, with its numbers. */
  reason: string
  /** The likely device, in words (the check's hint). */
  device: string
  frames: number[]
  /** TTLs, RTTs, router counts the reason rests on. */
  values: Record<string, number | string | boolean>
}
/**
 * The key of a connection's derived facts (ConnectionFacts[DERIVED]). A symbol rather than a
 * non-enumerable property: attaching it is a plain property store (Object.defineProperty cost
 * 0.09 s over the 100,000 connections of bench file (b)), and outputs skip it all the same.
 */
export const DERIVED: unique symbol = Symbol('derived facts')

export interface CertificateFacts {
  /** Verdict on the server's chain (leaf first) as presented on the wire. */
  server?: CertificateVerdict
}

/** Why the chain is what it is, in one word; the text says it for people. */
export type LikelyCause = 'foreign-issuer'

export interface CertificateVerdict {
  /** The leaf could not be parsed: nothing else below is meaningful. */
  parseError?: string
  /** The capture time the validity was judged at (ISO-8601; clamped to 0000-9999 when out of range). */
  at: string
  /**
   * The capture time is outside years 0000-9999 (a corrupt timestamp): validity was not judged
   * (validAtCapture, notYetValid and expired are false, expiresInDays 0).
   */
  captureTimeOutOfRange?: true
  /** The identity checked (--console), when one was given. */
  expectedName?: string
  /** Undefined without --console. */
  nameMatches?: boolean
  /** The SAN (or CN) that matched. */
  matchedName?: string
  /** What the certificate names: DNS and IP SANs, or the CN when there is no DNS SAN. */
  presentedNames: string[]
  validAtCapture: boolean
  notYetValid: boolean
  expired: boolean
  /** Whole days from the capture time to notAfter (negative when expired). */
  expiresInDays: number
  /** Undefined without --ca. */
  chainVerified?: boolean
  chainError?: string
  /** Subjects from the leaf up to the trust anchor, when verified. */
  chainPath?: string[]
  /** The leaf's issuer (or the top of the presented chain) is a CA of the bundle. Undefined without --ca. */
  issuerIsExpectedCa?: boolean
  /** Undefined without --pin. */
  pinMatches?: boolean
  likelyCause?: LikelyCause
  /** The cause in words, e.g. "the issuer X is not the Console CA: …". */
  likelyCauseText?: string
}

/**
 * Facts worked out from a connection's facts (analysis/derive.ts), each at most once per
 * connection, the first time it is read: several checks and the ladder read them, none
 * recomputes them, and what they hold does not depend on who reads first.
 */
export interface DerivedFacts {
  /** The TLS 1.3 flights judged by encrypted record sizes (TLS 1.3 with a ServerHello only). */
  tls13?: Tls13Handshake
  /** The record flow after the client's TLS 1.3 Finished (when the client sent a record after it). */
  upgradeFlow?: UpgradeFlow
  /** Where the capture's snapshot length first cut this connection's payload, if it did. */
  snaplenCut?: SnaplenCut
}

/**
 * The stream layer's 'tcp.snaplen' issue (a segment's payload was cut by the capture's snapshot
 * length), with the snapshot length the analysis saw cut frames at, when it knows it.
 */
export interface SnaplenIssue extends Issue {
  code: 'tcp.snaplen'
  snaplen?: number
}

export interface SnaplenCut {
  /** The first frame whose payload was cut. */
  frame: number
  snaplen?: number
}

/** What the client's first encrypted record after the server's flight holds, judged by its size. */
export type ClientFlightKind = 'finished' | 'empty-certificate' | 'certificate' | 'alert' | 'unknown'

export interface Tls13Handshake {
  sizes: Tls13RecordSizes
  /** The server's encrypted records before the client answered (EncryptedExtensions … Finished). */
  serverFlight: TlsRecordRef[]
  serverFlightBytes: number
  /** The client's encrypted records before the server's next record. */
  clientFlight: TlsRecordRef[]
  clientFlightBytes: number
  clientFlightKind?: ClientFlightKind
  /** Server records after the client's flight that are not alert-sized (NewSessionTicket, data). */
  serverAfterClient: TlsRecordRef[]
  /** An alert-sized server record right after the client's flight. */
  serverAlertAfterClient?: TlsRecordRef
  /** The client sent more than its flight (application data). */
  clientSentData: boolean
}

export interface UpgradeFlow {
  /** The client's first non-alert record after its Finished. */
  request: TlsRecordRef
  requestLooksLikeUpgrade: boolean
  /** Non-alert server records after the request, before the client's next non-alert record. */
  answer: TlsRecordRef[]
  /** Non-alert records after the answer. */
  clientAfter: TlsRecordRef[]
  serverAfter: TlsRecordRef[]
  /** The first FIN / RST of each side after the request. */
  fin: {client?: TcpFlagEvent; server?: TcpFlagEvent}
  rst?: TcpFlagEvent
  /** The record list stopped at its cap before the connection ended. */
  recordsTruncated: boolean
}
