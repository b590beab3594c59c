/**
 * The protocol chain's registry: what follows TCP, one registration per protocol, in the manner
 * of Zeek's analyzer tree. A protocol registers itself by name (also the ConnectionFacts key its
 * facts fill, so the JSON shape is the registry's), says where it attaches (the tags of the
 * protocols whose payload it reads, 'tcp' for the reassembled stream) and how it is recognised
 * there, makes its incremental reader (bytes in, never packets: readers are StreamHandlers) and
 * reads its facts and issues back. The chain a Defender's connection takes today:
 *
 *   tcp → [proxy preamble: HTTP CONNECT / SOCKS4 / SOCKS5] → TLS → (decrypted application data)
 *       → HTTP upgrade → (101, Upgrade: websocket) → WebSocket
 *
 * or, on a cleartext ws:// port, tcp → HTTP upgrade → WebSocket. The Analyzer's readers
 * (analysis/connection-readers.ts), the ladder (report/timeline.ts) and the probe read this
 * registry (src/protocols/index.ts lists the registrations).
 */
import type {Issue} from '../issues.js'
import type {KeyLookup} from '../keys/store.js'
import type {StreamHandler} from '../stream/types.js'

/**
 * Each protocol's facts by its name, filled in by the protocol modules (declaration merging):
 * `declare module './registry.js' { interface ProtocolFactsByName { tls: TlsFacts } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ProtocolFactsByName {}

/** A registered protocol's name: its tag, and the ConnectionFacts key of its facts. */
export type ProtocolName = keyof ProtocolFactsByName

/** The tag of the reassembled TCP stream, the root every chain starts from. */
export const TCP = 'tcp'

/**
 * How a protocol is told apart among the other protocols attached to the same parent:
 * - `recognise`: the client's first bytes of the parent's payload say it is this protocol;
 * - `fallback`: it reads what no sibling recognised (it then says what the bytes are not);
 * - `sniffs`: a layer that may or may not be there: it sees the start of every stream, looks for
 *   itself, and passes the stream (when it is not there) or its tunnel (when it is) on to the
 *   other protocols attached to the same parent (a proxy preamble: what follows its tunnel is what
 *   may follow TCP);
 * - `handedOver`: the parent's reader hands the payload over when it says so (HTTP's 101);
 * - none of these: the parent's payload always is this protocol (TLS application data → HTTP).
 */
export interface Attachment {
  /** The parent's tag: 'tcp' or a registered protocol's name. */
  to: ProtocolName | typeof TCP
  recognise?(firstClientBytes: Uint8Array): boolean
  fallback?: true
  sniffs?: true
  handedOver?: true
}

/** What a protocol's reader is given when it is made (at its first byte). */
export interface ReaderContext {
  /** TLS secrets (--keylog, the capture's Decryption Secrets Blocks). */
  keys?: KeyLookup
  /**
   * Whether the streams are known to start at the connection's first byte (its SYN or SYN-ACK
   * was captured): a preamble is only recognised there.
   */
  fromOpening(): boolean
  /**
   * Where this protocol's payload goes: its children's readers, chosen as their attachments say.
   * `handing` is what the protocol knows at the hand-over (HTTP: the upgrade facts), given to the
   * child as `ReaderContext.handedOver`.
   */
  payload(handing?: unknown): StreamHandler
  /** What the parent knew when it handed the payload over (handedOver attachments). */
  handedOver?: unknown
}

/** A protocol's issues, in the order they were raised, and how many LIST_CAPS left out. */
export interface ProtocolIssues {
  issues: readonly Issue[]
  omitted: number
}

export interface ProtocolRegistration<N extends ProtocolName = ProtocolName, R extends StreamHandler = StreamHandler> {
  name: N
  attaches: readonly Attachment[]
  /** Its incremental reader for one connection: push(chunk) in, facts out; never packets. */
  reader(context: ReaderContext): R
  /** Its facts, for ConnectionFacts[name]; undefined when the connection did not carry it. */
  facts(reader: R): ProtocolFactsByName[N] | undefined
  issues(reader: R): ProtocolIssues
}

/** Any registration, with its reader type erased (the chain only passes readers back to their own registration). */
export type AnyProtocol = ProtocolRegistration<ProtocolName, StreamHandler>

/** Type-checks a registration and erases its reader type for the list in index.ts. */
export function defineProtocol<N extends ProtocolName, R extends StreamHandler>(registration: ProtocolRegistration<N, R>): AnyProtocol {
  return registration as unknown as AnyProtocol
}

/** The protocols attached to `tag`, in registration order. */
export function attachedTo(protocols: readonly AnyProtocol[], tag: ProtocolName | typeof TCP): Array<{protocol: AnyProtocol; attachment: Attachment}> {
  const out: Array<{protocol: AnyProtocol; attachment: Attachment}> = []
  for (const protocol of protocols) {
    for (const attachment of protocol.attaches) if (attachment.to === tag) out.push({protocol, attachment})
  }
  return out
}

/** A protocol chosen by the client's first bytes (the index is its place in the chain's list). */
export interface Candidate {
  protocol: number
  recognise(firstClientBytes: Uint8Array): boolean
}

/**
 * Where the payload of one tag goes, as its attachments say: first through the layers that sniff
 * it (`sniffer`, which passes what is not its own to `next`), then to the protocol it is handed
 * over to or always is (`direct`), or to the one the client's first bytes choose among
 * `candidates`, with `fallback` reading until then and when none recognises them. Protocols are
 * named by their index in ProtocolChain.protocols, so a connection keeps its readers in an array.
 */
export interface PayloadRoute {
  sniffer?: {protocol: number; next: PayloadRoute}
  direct?: number
  candidates: readonly Candidate[]
  fallback?: number
}

/**
 * The chain a list of registrations makes, worked out once when it is built (the list does not
 * change): every tag's payload route, and where each protocol's own payload goes. Every
 * connection follows the same routes, so making a connection's readers costs no walk over the
 * registrations.
 */
export class ProtocolChain {
  /** Where the payload of each protocol (by index) goes: the route of its name. */
  readonly payloadOf: readonly PayloadRoute[]
  /** The route of the reassembled TCP stream. */
  readonly tcp: PayloadRoute

  constructor(readonly protocols: readonly AnyProtocol[]) {
    this.tcp = this.routeOf(TCP, 0)
    this.payloadOf = protocols.map((protocol) => this.routeOf(protocol.name, 0))
  }

  /** The route of `tag`'s payload after the first `sniffed` of its sniffing layers. */
  private routeOf(tag: ProtocolName | typeof TCP, sniffed: number): PayloadRoute {
    const attached = attachedTo(this.protocols, tag)
    const indexOf = (protocol: AnyProtocol) => this.protocols.indexOf(protocol)
    const sniffers = attached.filter(({attachment}) => attachment.sniffs === true)
    if (sniffed < sniffers.length) return {sniffer: {protocol: indexOf(sniffers[sniffed].protocol), next: this.routeOf(tag, sniffed + 1)}, candidates: []}
    const others = attached.filter(({attachment}) => attachment.sniffs !== true)
    const direct = others.find(({attachment: a}) => a.handedOver === true || (a.recognise === undefined && a.fallback === undefined))
    if (direct) return {direct: indexOf(direct.protocol), candidates: []}
    const candidates = others.filter(({attachment}) => attachment.recognise !== undefined).map(({protocol, attachment}) => ({protocol: indexOf(protocol), recognise: attachment.recognise!}))
    const fallback = others.find(({attachment}) => attachment.fallback === true)?.protocol
    return fallback === undefined ? {candidates} : {candidates, fallback: indexOf(fallback)}
  }
}
