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
