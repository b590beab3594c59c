/**
 * The protocol readers of one connection, chained as the registry (src/protocols/) says: the
 * reassembled stream goes to what is attached to 'tcp' (through the proxy preamble, which passes
 * the stream, or the tunnel it opens, on to the others: TLS or cleartext HTTP), TLS's decrypted application data to HTTP,
 * HTTP's bytes after a 101 to WebSocket. Each reader sees only reassembled bytes, never packets,
 * and is made at its first byte: a capture of a SYN flood or a port scan has many connections
 * that never carry any, and they should cost no reader state. A connection has at most one
 * reader per protocol.
 */
import {appendAll} from '../lists.js'
import type {Issue} from '../issues.js'
import type {KeyLookup} from '../keys/store.js'
import {PROTOCOL_CHAIN, ProtocolChain, type AnyProtocol, type PayloadRoute, type ProtocolFactsByName, type ProtocolName, type ReaderContext} from '../protocols/index.js'
import type {Direction, FrameRef, StreamHandler} from '../stream/types.js'

export interface ConnectionReadersOptions {
  keys?: KeyLookup
  /** Whether the streams start at the connection's first byte (asked at the first byte). Default: always. */
  fromOpening?: () => boolean
  /** The registered protocols, in chain order. Default: src/protocols/index.ts's PROTOCOLS (and their PROTOCOL_CHAIN). */
  protocols?: readonly AnyProtocol[]
}

/** Each protocol's facts under its name (the ConnectionFacts key), and every reader's issues in chain order. */
export type ConnectionProtocolFacts = Partial<ProtocolFactsByName> & {
  issues: Issue[]
  /** Issues the readers left out past LIST_CAPS.issuesPerSource. */
  issuesOmitted: number
}

const ALWAYS_FROM_OPENING = (): boolean => true

export class ConnectionReaders {
  /** What the tracker feeds: the reassembled stream, to the protocols attached to 'tcp'. */
  readonly stream: StreamHandler
  readonly keys: KeyLookup | undefined
  readonly fromOpening: () => boolean
  /** The connection's readers by the protocol's index in the chain, each made at its first byte. */
  private readonly readers: Array<StreamHandler | undefined>
  private readonly chain: ProtocolChain

  constructor(options: ConnectionReadersOptions = {}) {
    this.keys = options.keys
    this.fromOpening = options.fromOpening ?? ALWAYS_FROM_OPENING
    this.chain = options.protocols === undefined ? PROTOCOL_CHAIN : new ProtocolChain(options.protocols)
    this.readers = new Array<StreamHandler | undefined>(this.chain.protocols.length).fill(undefined)
    this.stream = this.payloadOf(this.chain.tcp)
  }

  /** Every protocol's facts and issues, in chain order (the registry's). */
  facts(): ConnectionProtocolFacts {
    const out: ConnectionProtocolFacts = {issues: [], issuesOmitted: 0}
    const facts = out as Record<ProtocolName, unknown>
    const protocols = this.chain.protocols
    for (let i = 0; i < protocols.length; i++) {
      const reader = this.readers[i]
      if (reader === undefined) continue
      const protocol = protocols[i]
      const protocolFacts = protocol.facts(reader)
      if (protocolFacts !== undefined) facts[protocol.name] = protocolFacts
      const {issues, omitted} = protocol.issues(reader)
      appendAll(out.issues, issues)
      out.issuesOmitted += omitted
    }
    return out
  }

  /**
   * The connection's reader of the chain's protocol `index`, made the first time it is asked for;
   * its payload goes along `payload` (a sniffing layer's: on to the other protocols attached to
   * its parent; anyone else's: to the protocols attached to it).
   */
  reader(index: number, handing?: unknown, payload: PayloadRoute = this.chain.payloadOf[index]): StreamHandler {
    let reader = this.readers[index]
    if (reader === undefined) {
      reader = this.chain.protocols[index].reader(new ProtocolReaderContext(this, payload, handing))
      this.readers[index] = reader
    }
    return reader
  }

  /**
   * Where a payload goes along `route`: through the layer that sniffs it (which passes the stream,
   * or its tunnel, on), to the protocol it is handed or always goes to, or to the one the client's
   * first bytes choose.
   */
  payloadOf(route: PayloadRoute, handing?: unknown): StreamHandler {
    if (route.sniffer !== undefined) return this.reader(route.sniffer.protocol, handing, route.sniffer.next)
    if (route.direct !== undefined) return this.reader(route.direct, handing)
    return new FirstBytesChoice(this, route)
  }

  /** The reader of the chain's protocol `index` if it was made. */
  made(index: number): StreamHandler | undefined {
    return this.readers[index]
  }
}

/**
 * What one protocol's reader is given (ReaderContext): the connection's keys and opening, what
 * its parent handed over, and where its payload goes. An object with its methods on the class,
 * not closures: one per reader made.
 */
class ProtocolReaderContext implements ReaderContext {
  readonly keys: KeyLookup | undefined
  /** The connection's own function (readers pass it on unbound, e.g. the proxy preamble's options). */
  readonly fromOpening: () => boolean

  constructor(
    private readonly readers: ConnectionReaders,
    private readonly route: PayloadRoute,
    readonly handedOver: unknown,
  ) {
    this.keys = readers.keys
    this.fromOpening = readers.fromOpening
  }

  payload(handing?: unknown): StreamHandler {
    return this.readers.payloadOf(this.route, handing)
  }
}

/**
 * The client's first bytes choose among the protocols attached to one parent (a TLS record
 * starts 0x16; a WebSocket upgrade "GET "); until then, and when none recognises them, the
 * fallback reads (TLS, which says what the bytes are not).
 */
class FirstBytesChoice implements StreamHandler {
  private chosen?: number
  private decided = false
  /** The reader bytes go to now (the fallback's until the choice), kept off the per-chunk path's lookups. */
  private handler?: StreamHandler

  constructor(
    private readonly readers: ConnectionReaders,
    private readonly route: PayloadRoute,
  ) {}

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    if (!this.decided) this.decide(direction, bytes)
    ;(this.handler ??= this.current())?.data(direction, bytes, ref)
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    ;(this.handler ??= this.current())?.gap?.(direction, size, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    const protocol = this.chosen ?? this.route.fallback
    if (protocol !== undefined) this.readers.made(protocol)?.end?.(direction, ref)
  }

  private current(): StreamHandler | undefined {
    const protocol = this.chosen ?? this.route.fallback
    return protocol === undefined ? undefined : this.readers.reader(protocol)
  }

  private decide(direction: Direction, bytes: Uint8Array): void {
    if (direction !== 'c2s' || bytes.length === 0) return
    this.decided = true
    this.chosen = this.route.candidates.find((candidate) => candidate.recognise(bytes))?.protocol
    this.handler = undefined
  }
}
