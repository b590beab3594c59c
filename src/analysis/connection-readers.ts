/**
 * The protocol readers of one connection, chained the way the bytes are layered:
 *   [proxy preamble: HTTP CONNECT / SOCKS] → TLS → (decrypted application data) → HTTP upgrade → WebSocket
 * or, for a cleartext ws:// test port, HTTP upgrade → WebSocket directly. The first bytes the
 * client sends decide (a TLS record starts 0x16; an HTTP request with a method token); each
 * reader sees only reassembled bytes, never packets.
 */
import {appendAll} from '../lists.js'
import type {HttpUpgradeFacts} from '../dissect/http/types.js'
import {TlsConnectionReader} from '../dissect/tls/connection.js'
import type {TlsFacts} from '../dissect/tls/types.js'
import {WebSocketConnectionReader} from '../dissect/websocket/connection.js'
import type {WebSocketFacts} from '../dissect/websocket/types.js'
import type {Issue} from '../issues.js'
import type {KeyLookup} from '../keys/store.js'
import type {Direction, FrameRef, StreamHandler} from '../stream/types.js'

/** TLS record content types (RFC 8446 §5.1) a stream can start with. */
const TLS_HANDSHAKE_RECORD = 0x16
/** "GET ", the only method a WebSocket upgrade uses (RFC 6455 §4.1). */
const HTTP_GET = [0x47, 0x45, 0x54, 0x20]

export interface ConnectionReadersOptions {
  keys?: KeyLookup
}

export interface ConnectionProtocolFacts {
  tls?: TlsFacts
  http?: HttpUpgradeFacts
  ws?: WebSocketFacts
  issues: Issue[]
  /** Issues the readers left out past LIST_CAPS.issuesPerSource. */
  issuesOmitted: number
}

export class ConnectionReaders implements StreamHandler {
  /**
   * Made at the first byte: a capture of a SYN flood or a port scan has many connections that
   * never carry any, and they should cost no reader state.
   */
  private tls?: TlsConnectionReader
  private web?: WebSocketConnectionReader
  /** Cleartext HTTP on the port: the TLS reader is never fed. */
  private cleartext = false
  private decided = false

  constructor(private readonly options: ConnectionReadersOptions) {}

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    if (!this.decided) this.decide(direction, bytes)
    if (this.cleartext) this.webSocket().data(direction, bytes, ref)
    else this.tlsReader().data(direction, bytes, ref)
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    if (this.cleartext) this.web?.gap(direction, size, ref)
    else this.tlsReader().gap(direction, size, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    if (this.cleartext) this.web?.end(direction, ref)
    else this.tls?.end(direction, ref)
  }

  facts(): ConnectionProtocolFacts {
    const facts: ConnectionProtocolFacts = {issues: [...(this.tls?.issues ?? [])], issuesOmitted: this.tls?.truncated?.issues ?? 0}
    if (this.tls) facts.tls = this.tls.facts()
    if (this.web) {
      const {http, ws} = this.web.facts
      facts.http = http
      if (ws) facts.ws = ws
      appendAll(facts.issues, http.issues)
      facts.issuesOmitted += http.truncated?.issues ?? 0
      if (ws) appendAll(facts.issues, ws.issues)
    }
    return facts
  }

  /** The client's first bytes tell TLS from cleartext HTTP; anything else goes to the TLS reader, which says what it is not. */
  private decide(direction: Direction, bytes: Uint8Array): void {
    if (direction !== 'c2s' || bytes.length === 0) return
    this.decided = true
    if (bytes[0] === TLS_HANDSHAKE_RECORD) return
    this.cleartext = bytes.length >= HTTP_GET.length && HTTP_GET.every((b, i) => bytes[i] === b)
  }

  private tlsReader(): TlsConnectionReader {
    return (this.tls ??= new TlsConnectionReader({keys: this.options.keys, onApplicationData: (direction, bytes, ref) => this.webSocket().data(direction, bytes, ref)}))
  }

  private webSocket(): WebSocketConnectionReader {
    return (this.web ??= new WebSocketConnectionReader())
  }
}
