/**
 * HTTP/1.1 upgrade facts: what HttpUpgradeReader learns from the opening request and response
 * of a connection that should switch to WebSocket (RFC 6455 §4, RFC 9112 message syntax).
 */
import type {HoldsCappedLists} from '../../lists.js'
import type {Issue} from '../../issues.js'
import type {FrameRef} from '../../stream/types.js'

/** One header field line as sent (name keeps its case; repeated fields stay separate). */
export interface HttpHeader {
  name: string
  value: string
}

/** One entry of Sec-WebSocket-Extensions (RFC 6455 §9.1): `name; param[=value]...`. */
export interface WebSocketExtension {
  name: string
  params: Array<{name: string; value?: string}>
}

/** The request; `frame`/`ts` are the segment that completed its header block (as tshark shows it). */
export interface HttpUpgradeRequest extends FrameRef {
  method: string
  /** request-target as sent (origin-form for a WebSocket upgrade). */
  path: string
  /** e.g. 'HTTP/1.1'. */
  httpVersion: string
  headers: HttpHeader[]
  host?: string
  /** Upgrade and Connection values, all occurrences joined with ', '. */
  upgrade?: string
  connection?: string
  /** Sec-WebSocket-Key. */
  key?: string
  /** Sec-WebSocket-Version. */
  version?: string
  /** Sec-WebSocket-Protocol tokens offered, in order. */
  protocols: string[]
  /** Sec-WebSocket-Extensions offered, in order. */
  extensions: WebSocketExtension[]
}

export interface HttpUpgradeResponse extends FrameRef {
  httpVersion: string
  status: number
  reason: string
  headers: HttpHeader[]
  upgrade?: string
  connection?: string
  /** Sec-WebSocket-Accept. */
  accept?: string
  /** accept === expectedAccept; absent when there is no accept or no request key to check it by. */
  acceptValid?: boolean
  /** base64(SHA-1(key + GUID)) for the request's key (RFC 6455 §4.2.2 step 5.4). */
  expectedAccept?: string
  /** Sec-WebSocket-Protocol selected by the server. */
  protocol?: string
  /** Sec-WebSocket-Extensions accepted by the server. */
  extensions: WebSocketExtension[]
}

/** permessage-deflate negotiation (RFC 7692 §5). */
export interface PermessageDeflateFacts {
  /** The client offered it. */
  offered: boolean
  /** The server's response accepted it (frames may carry RSV1). */
  accepted: boolean
  /** The parameters of the accepted entry. */
  params?: Array<{name: string; value?: string}>
}

/** `truncated` counts what LIST_CAPS left out of issues, requestHeaders and responseHeaders. */
export interface HttpUpgradeFacts extends HoldsCappedLists {
  request?: HttpUpgradeRequest
  response?: HttpUpgradeResponse
  /** A 101 response with `Upgrade: websocket`: the bytes after the header blocks are WebSocket frames. */
  upgraded: boolean
  permessageDeflate: PermessageDeflateFacts
  /** The frame of each side's http.not-http issue (which quotes that side's first bytes). */
  notHttpFrom?: {client?: number; server?: number}
  issues: Issue[]
}
