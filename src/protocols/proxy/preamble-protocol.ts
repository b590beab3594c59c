/**
 * What one proxy protocol (HTTP CONNECT, SOCKS4/4a, SOCKS5) adds to the generic preamble wrapper
 * (preamble.ts: sniff, hold, replay, limits): how its first client bytes are recognised and a
 * reader of its messages, one at a time, from the bytes the wrapper holds. The protocols are
 * listed in protocols.ts.
 */
import type {IssueSeverity} from '../../issues.js'
import type {Direction, FrameRef} from '../../stream/types.js'
import type {HeldBytes} from './held-bytes.js'
import type {Malformed} from './socks.js'
import type {ProxyFacts, ProxyType} from './types.js'

/** What the preamble said so far: ProxyFacts without the wrapper's own fields. */
export type PreambleSaid = Partial<Pick<ProxyFacts, 'target' | 'request' | 'response' | 'command' | 'authentication' | 'http'>> & {type?: ProxyType}

/** The wrapper, as a protocol's message reader uses it. */
export interface PreambleSession {
  readonly said: PreambleSaid
  /** Largest message accepted. */
  readonly maxHeadBytes: number
  /** Consumes a message; its frame is the one that completed it. Undefined (and stopped) past maxHeadBytes. */
  consumeMessage(held: HeldBytes, length: number, isRequest: boolean): FrameRef | undefined
  /** A message over maxHeadBytes: an issue, and the reader stops. */
  headTooLarge(direction: Direction, held: HeldBytes): false
  /** A malformed message: an issue, and the reader stops. */
  malformed(parsed: Malformed, held: HeldBytes): boolean
  issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void
  /** The proxy answered: open the tunnel, or stop (it refused). */
  decide(opened: boolean): void
  /** Nothing more is read (the protocol cannot be followed further). */
  stop(): void
}

/** One connection's reader of a proxy protocol's messages. */
export interface PreambleMessages {
  /** The message waited for (named in 'proxy.incomplete' issues), e.g. `socks5-method`. */
  readonly state: string
  /** Which direction that message comes from; undefined when it waits on none. */
  readonly reads: Direction | undefined
  /** Whether the client has sent all of its preamble (its later bytes belong to the tunnel). */
  readonly clientDone: boolean
  /** Reads the message waited for from `held` (the bytes of `reads`); true when one was consumed. */
  parseNext(held: HeldBytes): boolean
}

export interface ProxyPreambleProtocol {
  /** ProxyFacts.type once recognised (SOCKS4 says socks4a when the request does). */
  type: ProxyType
  /** Its name in issues: `HTTP CONNECT`, `SOCKS5`. */
  name: string
  /**
   * From the client's first bytes (`at(i)`: byte i, undefined past what arrived): yes, no, or
   * partial (too few bytes yet to tell).
   */
  recognise(at: (index: number) => number | undefined): 'yes' | 'no' | 'partial'
  messages(session: PreambleSession): PreambleMessages
}
