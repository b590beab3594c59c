/**
 * ProxyPreambleReader: recognises a proxy handshake in front of TLS and hands the tunnel's bytes
 * to the inner handler (the TLS reader) as if the stream started there. This is the generic
 * part: sniff, hold, replay, limits. The proxy protocols themselves (HTTP CONNECT, SOCKS4/4a,
 * SOCKS5) are modules of their own, listed in protocols.ts (preamble-protocol.ts says what one
 * provides).
 *
 * The first client bytes decide (the client speaks first in all three protocols): the protocol
 * that recognises them reads the preamble; anything else (0x16 for TLS) → pass-through.
 * After pass-through or an opened tunnel, data/gap/end are the inner handler's own methods:
 * nothing runs in between. Only what cannot be decided at once is copied (HeldBytes).
 * Malformed input, a gap inside the preamble or a head over the limit become an Issue and the
 * reader gives up (nothing more is parsed or forwarded); it never throws.
 */
import {LIST_CAPS, pushCapped, type Truncated} from '../../lists.js'
import type {Issue, IssueSeverity} from '../../issues.js'
import {senderOf, type Direction, type FrameRef, type StreamHandler} from '../../stream/types.js'
import {HeldBytes} from './held-bytes.js'
import type {PreambleMessages, PreambleSaid, PreambleSession, ProxyPreambleProtocol} from './preamble-protocol.js'
import {PROXY_PREAMBLES} from './protocols.js'
import type {Malformed} from './socks.js'
import type {ProxyFacts} from './types.js'

export interface ProxyPreambleReaderOptions {
  /**
   * Whether the streams are known to start at the connection's first byte (its SYN or SYN-ACK
   * was captured); asked once, at the first byte. A capture that began mid-connection starts
   * anywhere in the stream, where a 0x04 or 0x05 means nothing: the preamble is looked for only
   * when this says true. Default: always true.
   */
  fromOpening?: () => boolean
  /** Largest HTTP head or SOCKS message accepted (Issue and give up past it). Default 16 KiB. */
  maxHeadBytes?: number
  /** Most bytes held per direction while the proxy has not answered. Default 64 KiB. */
  maxHeldBytes?: number
  /** The proxy protocols looked for. Default: all of protocols.ts. */
  protocols?: readonly ProxyPreambleProtocol[]
}

type State =
  | 'sniff'
  /** A protocol was recognised: its messages are being read. */
  | 'reading'
  /** Decided: the inner handler's methods are installed. */
  | 'forwarding'
  /** The proxy refused, or the reader gave up: nothing more is read. */
  | 'stopped'

function ignore(): void {}

export class ProxyPreambleReader implements StreamHandler, PreambleSession {
  /** The first LIST_CAPS.issuesPerSource issues; `truncated.issues` counts the rest. */
  readonly issues: Issue[] = []
  truncated?: Truncated
  data: StreamHandler['data']
  gap: StreamHandler['gap']
  end: StreamHandler['end']
  readonly said: PreambleSaid = {}
  readonly maxHeadBytes: number

  private state: State = 'sniff'
  private readonly fromOpening: () => boolean
  private readonly maxHeldBytes: number
  private readonly protocols: readonly ProxyPreambleProtocol[]
  private protocol?: ProxyPreambleProtocol
  private messages?: PreambleMessages
  private held: Record<Direction, HeldBytes | undefined> = {c2s: undefined, s2c: undefined}
  private readonly ended = {c2s: false, s2c: false}
  private tunnelOpened = false

  constructor(
    private readonly inner: StreamHandler,
    options: ProxyPreambleReaderOptions = {},
  ) {
    this.fromOpening = options.fromOpening ?? (() => true)
    this.maxHeadBytes = options.maxHeadBytes ?? 16 * 1024
    this.maxHeldBytes = options.maxHeldBytes ?? 64 * 1024
    this.protocols = options.protocols ?? PROXY_PREAMBLES
    this.data = (direction, bytes, ref) => this.preambleData(direction, bytes, ref)
    this.gap = (direction, size, ref) => this.preambleGap(direction, size, ref)
    this.end = (direction, ref) => this.preambleEnd(direction, ref)
  }

  /** What the preamble said; undefined when the connection had none (pass-through). */
  facts(): ProxyFacts | undefined {
    const said = this.said
    if (said.type === undefined || said.request === undefined) return undefined
    const facts: ProxyFacts = {type: said.type, request: said.request, tunnelOpened: this.tunnelOpened, issues: this.issues}
    if (this.truncated) facts.truncated = this.truncated
    if (said.target) facts.target = said.target
    if (said.response) facts.response = said.response
    if (said.command !== undefined) facts.command = said.command
    if (said.authentication) facts.authentication = said.authentication
    if (said.http) facts.http = said.http
    return facts
  }

  /** The direction the current message comes from, while one is being read. */
  private reads(): Direction | undefined {
    return this.state === 'reading' ? this.messages!.reads : undefined
  }

  private preambleData(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    if (bytes.length === 0) return
    if (this.state === 'sniff') {
      this.sniff(direction, bytes, ref)
      return
    }
    this.hold(direction, bytes, ref)
    this.step()
    this.checkHeld(direction, ref)
  }

  private preambleGap(direction: Direction, size: number, ref: FrameRef): void {
    if (this.state === 'sniff') {
      // A hole before the first byte was decided: nothing here can be told from the start.
      this.passThrough()
      this.inner.gap?.(direction, size, ref)
      return
    }
    if (this.preambleDone(direction)) {
      this.holder(direction).addGap(size, ref)
      return
    }
    this.issue('proxy.gap', 'warn', `from the ${senderOf(direction)}: ${size} bytes never captured inside the ${this.protocolName()} preamble; the tunnel after it cannot be followed`, ref)
    this.stop()
  }

  private preambleEnd(direction: Direction | 'both', ref: FrameRef): void {
    if (this.state === 'sniff') {
      this.passThrough()
      this.inner.end?.(direction, ref)
      return
    }
    // Marked where it came, so an opened tunnel replays it in order to the inner handler.
    if (direction === 'both') {
      this.ended.c2s = this.ended.s2c = true
      this.holder('c2s').addEnd('both', ref)
    } else {
      this.ended[direction] = true
      this.holder(direction).addEnd(direction, ref)
    }
    this.step()
  }

  /** The first bytes: a proxy protocol, or pass-through. */
  private sniff(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    const heldC2s = this.held.c2s
    if (direction === 's2c') {
      // The server spoke first: not a client's proxy request.
      if (heldC2s === undefined) {
        this.passThrough()
        this.inner.data(direction, bytes, ref)
      } else {
        // A partial "CONNECT " is held: what the server says waits for the decision.
        this.hold(direction, bytes, ref)
        this.checkHeld(direction, ref)
      }
      return
    }
    if (heldC2s === undefined && !this.fromOpening()) {
      this.passThrough()
      this.inner.data(direction, bytes, ref)
      return
    }
    const before = heldC2s?.unread()
    const heldLength = before?.length ?? 0
    const at = (i: number): number | undefined => (i < heldLength ? before![i] : i - heldLength < bytes.length ? bytes[i - heldLength] : undefined)
    let partial = false
    let recognised: ProxyPreambleProtocol | undefined
    for (const protocol of this.protocols) {
      const answer = protocol.recognise(at)
      if (answer === 'yes') {
        recognised = protocol
        break
      }
      if (answer === 'partial') partial = true
    }
    if (recognised === undefined) {
      if (partial) this.hold(direction, bytes, ref)
      else this.passThrough(bytes, ref)
      return
    }
    this.protocol = recognised
    this.said.type = recognised.type
    this.messages = recognised.messages(this)
    this.said.request = heldC2s !== undefined ? heldC2s.refAt(0) : ref
    this.state = 'reading'
    this.hold(direction, bytes, ref)
    this.step()
    this.checkHeld(direction, ref)
  }

  /**
   * Not a proxy preamble: replay what was held (client first), then `pending` (the c2s chunk
   * being decided), and install the inner handler's methods.
   */
  private passThrough(pending?: Uint8Array, ref?: FrameRef): void {
    const {c2s, s2c} = this.held
    this.said.type = undefined
    this.said.request = undefined
    this.forward()
    c2s?.replay('c2s', this.inner)
    if (pending !== undefined) this.inner.data('c2s', pending, ref!)
    s2c?.replay('s2c', this.inner)
  }

  /** Installs the inner handler's own methods: from now on the wrapper costs nothing. */
  private forward(): void {
    const inner = this.inner
    this.state = 'forwarding'
    this.held = {c2s: undefined, s2c: undefined}
    this.data = inner.data.bind(inner)
    this.gap = inner.gap?.bind(inner)
    this.end = inner.end?.bind(inner)
  }

  /** The tunnel is open: what is held past the preamble goes to the inner handler, client first. */
  private openTunnel(): void {
    const {c2s, s2c} = this.held
    this.tunnelOpened = true
    this.forward()
    c2s?.replay('c2s', this.inner)
    s2c?.replay('s2c', this.inner)
  }

  /** The proxy refused or the reader gave up: nothing more is read or forwarded. */
  stop(): void {
    this.state = 'stopped'
    this.held = {c2s: undefined, s2c: undefined}
    this.data = ignore
    this.gap = ignore
    this.end = ignore
  }

  private holder(direction: Direction): HeldBytes {
    return (this.held[direction] ??= new HeldBytes())
  }

  /** Copies a chunk into the direction's held bytes. */
  private hold(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    this.holder(direction).append(bytes, ref)
  }

  /**
   * After a chunk was held and read as far as it goes: stops past maxHeldBytes of `direction` that
   * wait on the other side. Counted after reading, not per chunk, so that the verdict does not
   * depend on where chunks split; the message being read is bounded by maxHeadBytes instead.
   */
  private checkHeld(direction: Direction, ref: FrameRef): void {
    if (this.state === 'stopped' || this.state === 'forwarding' || this.reads() === direction) return
    if (this.holder(direction).available <= this.maxHeldBytes) return
    this.issue(
      'proxy.held-too-much',
      'warn',
      `from the ${senderOf(direction)}: over ${this.maxHeldBytes} bytes before the ${this.protocolName()} preamble completed; the tunnel cannot be followed`,
      ref,
    )
    this.stop()
  }

  /** Whether `direction` has sent all of its preamble (later bytes belong to the tunnel). */
  private preambleDone(direction: Direction): boolean {
    if (direction === 's2c') return false // the server's last preamble message opens or refuses the tunnel
    return this.state === 'reading' && this.messages!.clientDone
  }

  /** Advances the preamble as far as the held bytes allow. */
  private step(): void {
    for (;;) {
      const direction = this.reads()
      if (direction === undefined) return
      const held = this.holder(direction)
      const progressed = this.messages!.parseNext(held)
      if ((this.state as State) === 'stopped' || (this.state as State) === 'forwarding') return
      if (progressed) continue
      if (held.available > this.maxHeadBytes) {
        this.headTooLarge(direction, held)
      } else if (this.ended[direction]) {
        const at = held.length > 0 ? held.refAt(held.length - 1) : this.said.request!
        const what = direction === 'c2s' ? 'the client' : 'the proxy'
        this.issue('proxy.incomplete', 'warn', `from the ${senderOf(direction)}: the stream ended before ${what} finished its part of the ${this.protocolName()} preamble (${this.messages!.state})`, at)
        this.stop()
      }
      return
    }
  }

  /**
   * A message over the limit, whether it was still incomplete or came whole in one chunk (the
   * verdict must not depend on where chunks split).
   */
  headTooLarge(direction: Direction, held: HeldBytes): false {
    this.issue('proxy.head-too-large', 'error', `from the ${senderOf(direction)}: ${this.protocolName()} message longer than ${this.maxHeadBytes} bytes; giving up`, held.refAt(held.length - 1))
    this.stop()
    return false
  }

  /** Consumes a message; its frame is the one that completed it (as tshark reports a reassembled PDU). */
  consumeMessage(held: HeldBytes, length: number, isRequest: boolean): FrameRef | undefined {
    if (length > this.maxHeadBytes) {
      this.headTooLarge(held === this.held.c2s ? 'c2s' : 's2c', held)
      return undefined
    }
    const ref = held.refAt(held.consumed + length - 1)
    held.consume(length)
    if (isRequest) this.said.request = ref
    return ref
  }

  /** The proxy answered: open the tunnel, or stop (it refused). */
  decide(opened: boolean): void {
    if (opened) this.openTunnel()
    else this.stop()
  }

  malformed(parsed: Malformed, held: HeldBytes): boolean {
    const direction = held === this.held.c2s ? 'c2s' : 's2c'
    this.issue('proxy.malformed', 'error', `from the ${senderOf(direction)}: ${parsed.why}`, held.refAt(held.consumed))
    this.stop()
    return false
  }

  /** Before a protocol was recognised (a partial "CONNECT " held while the server sends), the name said was SOCKS4's: kept as it was. */
  private protocolName(): string {
    return this.protocol?.name ?? 'SOCKS4'
  }

  issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void {
    pushCapped(this, 'issues', this.issues, LIST_CAPS.issuesPerSource, {code, severity, message, frame: ref.frame})
  }
}
