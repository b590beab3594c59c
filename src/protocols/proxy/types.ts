/**
 * Proxy facts: what a proxy preamble in front of TLS tells about one connection. A Defender that
 * reaches its Console through a proxy opens its TCP connection to the proxy and asks it for a
 * tunnel first: HTTP CONNECT (RFC 9110 §9.3.6), SOCKS4/4a, or SOCKS5 (RFC 1928, RFC 1929).
 * Credentials are never kept: only the name of the authentication scheme or method.
 */
import type {HoldsCappedLists} from '../../lists.js'
import type {Issue} from '../../issues.js'
import type {FrameRef} from '../../stream/types.js'

export type ProxyType = 'http-connect' | 'socks4' | 'socks4a' | 'socks5'

/** Where the client asked the proxy to connect. */
export interface ProxyTarget {
  /** Host name as sent (CONNECT authority, SOCKS4a/SOCKS5 domain name), or IP address text. */
  host: string
  port: number
}

/** The proxy's answer to the connect request. */
export interface ProxyResponse extends FrameRef {
  /** HTTP status code; SOCKS4 CD (90-93); SOCKS5 REP (0-255). */
  status: number
  /** HTTP reason phrase as sent; the SOCKS reply code's name from the RFC's table. */
  reason: string
}

/**
 * Proxy authentication, without the credentials.
 * - HTTP: `scheme` is the scheme of the client's Proxy-Authorization (e.g. "Basic"), `offered`
 *   the schemes of the proxy's Proxy-Authenticate challenges (RFC 9110 §11.7.1).
 * - SOCKS5: `offered` are the methods the client listed in its greeting, `scheme` the method the
 *   server selected (RFC 1928 §3); absent when it accepted none (X'FF').
 */
export interface ProxyAuthentication {
  scheme?: string
  offered: string[]
  /**
   * HTTP: false when the proxy answered 407, true when it answered otherwise to a request that
   * carried credentials. SOCKS5: false for X'FF' or a failed username/password subnegotiation
   * (RFC 1929 §2), true once the selected method let the client through.
   * Absent when nothing tells.
   */
  accepted?: boolean
}

/** `truncated.issues` counts issues past LIST_CAPS.issuesPerSource. */
export interface ProxyFacts extends HoldsCappedLists {
  type: ProxyType
  /** Absent when the connect request was never seen whole (stream ended, authentication refused). */
  target?: ProxyTarget
  /**
   * The frame that completed the client's connect request (CONNECT head, SOCKS request); while
   * no request was seen whole, the frame where the preamble began.
   */
  request: FrameRef
  response?: ProxyResponse
  /** SOCKS command name (RFC 1928 §4: CONNECT, BIND, UDP ASSOCIATE). */
  command?: string
  authentication?: ProxyAuthentication
  /** HTTP proxies: the response's version and the Via and Server headers (RFC 9110 §7.6.3, §10.2.4). */
  http?: {version: string; via?: string; server?: string}
  /** The proxy agreed: what follows on both directions is the tunnel's (TLS) bytes. */
  tunnelOpened: boolean
  issues: Issue[]
}
