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
import {attachedTo, PROTOCOLS, TCP, type AnyProtocol, type ProtocolFactsByName, type ProtocolName} from '../protocols/index.js'
import type {Direction, FrameRef, StreamHandler} from '../stream/types.js'

export interface ConnectionReadersOptions {
  keys?: KeyLookup
  /** Whether the streams start at the connection's first byte (asked at the first byte). Default: always. */
  fromOpening?: () => boolean
  /** The registered protocols, in chain order. Default: src/protocols/index.ts's PROTOCOLS. */
  protocols?: readonly AnyProtocol[]
}

/** Each protocol's facts under its name (the ConnectionFacts key), and every reader's issues in chain order. */
export type ConnectionProtocolFacts = Partial<ProtocolFactsByName> & {
  issues: Issue[]
  /** Issues the readers left out past LIST_CAPS.issuesPerSource. */
  issuesOmitted: number
}

export class ConnectionReaders {
  /** What the tracker feeds: the reassembled stream, to the protocols attached to 'tcp'. */
  readonly stream: StreamHandler
  private readonly readers = new Map<ProtocolName, StreamHandler>()
  private readonly fromOpening: () => boolean
  private readonly protocols: readonly AnyProtocol[]

  constructor(private readonly options: ConnectionReadersOptions = {}) {
    this.fromOpening = options.fromOpening ?? (() => true)
    this.protocols = options.protocols ?? PROTOCOLS
    this.stream = this.payloadOf(TCP)
  }

  /** Every protocol's facts and issues, in chain order (the registry's). */
  facts(): ConnectionProtocolFacts {
    const out: ConnectionProtocolFacts = {issues: [], issuesOmitted: 0}
    const facts = out as Record<ProtocolName, unknown>
    for (const protocol of this.protocols) {
      const reader = this.readers.get(protocol.name)
      if (reader === undefined) continue
      const protocolFacts = protocol.facts(reader)
      if (protocolFacts !== undefined) facts[protocol.name] = protocolFacts
      const {issues, omitted} = protocol.issues(reader)
      appendAll(out.issues, issues)
      out.issuesOmitted += omitted
    }
    return out
  }

  /**
   * The connection's reader of `protocol`, made the first time it is asked for; its payload goes
   * to `payload` (a sniffing layer's: the other protocols attached to its parent).
   */
  reader(protocol: AnyProtocol, handing?: unknown, payload: (next?: unknown) => StreamHandler = (next) => this.payloadOf(protocol.name, next)): StreamHandler {
    let reader = this.readers.get(protocol.name)
    if (reader === undefined) {
      reader = protocol.reader({keys: this.options.keys, fromOpening: this.fromOpening, handedOver: handing, payload})
      this.readers.set(protocol.name, reader)
    }
    return reader
  }

  /**
   * Where the payload of `tag` goes: through the layers that sniff it (each passing the stream,
   * or its tunnel, to the next, after `sniffed` of them), then to the protocol it is handed or
   * always goes to, or to the one the client's first bytes choose.
   */
  private payloadOf(tag: ProtocolName | typeof TCP, handing?: unknown, sniffed = 0): StreamHandler {
    const attached = attachedTo(this.protocols, tag)
    const sniffers = attached.filter(({attachment}) => attachment.sniffs === true)
    if (sniffed < sniffers.length) return this.reader(sniffers[sniffed].protocol, handing, () => this.payloadOf(tag, undefined, sniffed + 1))
    const others = attached.filter(({attachment}) => attachment.sniffs !== true)
    const direct = others.find(({attachment: a}) => a.handedOver === true || (a.recognise === undefined && a.fallback === undefined))
    if (direct) return this.reader(direct.protocol, handing)
    const candidates = others.filter(({attachment}) => attachment.recognise !== undefined).map(({protocol, attachment}) => ({protocol, recognise: attachment.recognise!}))
    return new FirstBytesChoice(this, candidates, others.find(({attachment}) => attachment.fallback === true)?.protocol)
  }

  /** The reader of `protocol` if it was made. */
  made(protocol: AnyProtocol): StreamHandler | undefined {
    return this.readers.get(protocol.name)
  }
}

/**
 * The client's first bytes choose among the protocols attached to one parent (a TLS record
 * starts 0x16; a WebSocket upgrade "GET "); until then, and when none recognises them, the
 * fallback reads (TLS, which says what the bytes are not).
 */
class FirstBytesChoice implements StreamHandler {
  private chosen?: AnyProtocol
  private decided = false
  /** The reader bytes go to now (the fallback's until the choice), kept off the per-chunk path's lookups. */
  private handler?: StreamHandler

  constructor(
    private readonly readers: ConnectionReaders,
    private readonly candidates: ReadonlyArray<{protocol: AnyProtocol; recognise(first: Uint8Array): boolean}>,
    private readonly fallback: AnyProtocol | undefined,
  ) {}

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    if (!this.decided) this.decide(direction, bytes)
    ;(this.handler ??= this.current())?.data(direction, bytes, ref)
  }

  gap(direction: Direction, size: number, ref: FrameRef): void {
    ;(this.handler ??= this.current())?.gap?.(direction, size, ref)
  }

  end(direction: Direction | 'both', ref: FrameRef): void {
    const protocol = this.chosen ?? this.fallback
    if (protocol) this.readers.made(protocol)?.end?.(direction, ref)
  }

  private current(): StreamHandler | undefined {
    const protocol = this.chosen ?? this.fallback
    return protocol && this.readers.reader(protocol)
  }

  private decide(direction: Direction, bytes: Uint8Array): void {
    if (direction !== 'c2s' || bytes.length === 0) return
    this.decided = true
    this.chosen = this.candidates.find((candidate) => candidate.recognise(bytes))?.protocol
    this.handler = undefined
  }
}
