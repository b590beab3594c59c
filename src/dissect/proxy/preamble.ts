/**
 * ProxyPreambleReader: recognises a proxy handshake in front of TLS and hands the tunnel's bytes
 * to the inner handler (the TLS reader) as if the stream started there.
 *
 * The first client bytes decide (the client speaks first in all three protocols):
 * - "CONNECT " → HTTP CONNECT (RFC 9110 §9.3.6): request head, then the response head; a 2xx
 *   opens the tunnel. Bytes the client sends after its head belong to the tunnel, even before
 *   the answer (RFC 9110 §9.3.6 lets a client pipeline them).
 * - 0x05 → SOCKS5 (RFC 1928): greeting / method selection / [RFC 1929 username/password] /
 *   request / reply; REP 0 opens the tunnel.
 * - 0x04 → SOCKS4/4a: request / reply; CD 90 opens the tunnel.
 * - anything else (0x16 for TLS) → pass-through.
 * After pass-through or an opened tunnel, data/gap/end are the inner handler's own methods:
 * nothing runs in between. Only what cannot be decided at once is copied (HeldBytes).
 * Malformed input, a gap inside the preamble or a head over the limit become an Issue and the
 * reader gives up (nothing more is parsed or forwarded); it never throws.
 */
import {LIST_CAPS, pushCapped, type Truncated} from '../../lists.js'
import type {Issue, IssueSeverity} from '../../issues.js'
import {senderOf, type Direction, type FrameRef, type StreamHandler} from '../../stream/types.js'
import {HeldBytes} from './held-bytes.js'
import {
  CONNECT_PREFIX,
  describeStartLine,
  findHeadEnd,
  parseConnectRequest,
  parseConnectResponse,
  resumeAfterMiss,
} from './http-connect.js'
import {
  SOCKS4_REPLIES,
  SOCKS4_VERSION,
  SOCKS5_GSSAPI,
  SOCKS5_METHODS,
  SOCKS5_NO_ACCEPTABLE_METHODS,
  SOCKS5_NO_AUTHENTICATION,
  SOCKS5_REPLIES,
  SOCKS5_USERNAME_PASSWORD,
  SOCKS5_VERSION,
  SOCKS_COMMANDS,
  codeName,
  parseSocks4Reply,
  parseSocks4Request,
  parseSocks5Greeting,
  parseSocks5Message,
  parseSocks5MethodSelection,
  parseSocks5UserPassReply,
  parseSocks5UserPassRequest,
  type Malformed,
} from './socks.js'
import type {ProxyAuthentication, ProxyFacts, ProxyResponse, ProxyTarget, ProxyType} from './types.js'

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
}

type State =
  | 'sniff'
  | 'http-request'
  | 'http-response'
  | 'socks4-request'
  | 'socks4-reply'
  | 'socks5-greeting'
  | 'socks5-method'
  | 'socks5-auth'
  | 'socks5-auth-reply'
  | 'socks5-request'
  | 'socks5-reply'
  /** Decided: the inner handler's methods are installed. */
  | 'forwarding'
  /** The proxy refused, or the reader gave up: nothing more is read. */
  | 'stopped'

/** Which direction each parsing state waits on. */
const READS: Partial<Record<State, Direction>> = {
  'http-request': 'c2s',
  'http-response': 's2c',
  'socks4-request': 'c2s',
  'socks4-reply': 's2c',
  'socks5-greeting': 'c2s',
  'socks5-method': 's2c',
  'socks5-auth': 'c2s',
  'socks5-auth-reply': 's2c',
  'socks5-request': 'c2s',
  'socks5-reply': 's2c',
}

const HTTP_PROXY_AUTHENTICATION_REQUIRED = 407
const SOCKS4_GRANTED = 90
const SOCKS5_SUCCEEDED = 0

function ignore(): void {}

export class ProxyPreambleReader implements StreamHandler {
  /** The first LIST_CAPS.issuesPerSource issues; `truncated.issues` counts the rest. */
  readonly issues: Issue[] = []
  truncated?: Truncated
  data: StreamHandler['data']
  gap: StreamHandler['gap']
  end: StreamHandler['end']

  private state: State = 'sniff'
  private readonly fromOpening: () => boolean
  private readonly maxHeadBytes: number
  private readonly maxHeldBytes: number
  private held: Record<Direction, HeldBytes | undefined> = {c2s: undefined, s2c: undefined}
  private readonly ended = {c2s: false, s2c: false}
  /** Where findHeadEnd resumes in the unread bytes of the direction being read. */
  private headScan = 0

  private type?: ProxyType
  private target?: ProxyTarget
  private request?: FrameRef
  private response?: ProxyResponse
  private command?: string
  private authentication?: ProxyAuthentication
  private http?: ProxyFacts['http']
  private tunnelOpened = false

  constructor(
    private readonly inner: StreamHandler,
    options: ProxyPreambleReaderOptions = {},
  ) {
    this.fromOpening = options.fromOpening ?? (() => true)
    this.maxHeadBytes = options.maxHeadBytes ?? 16 * 1024
    this.maxHeldBytes = options.maxHeldBytes ?? 64 * 1024
    this.data = (direction, bytes, ref) => this.preambleData(direction, bytes, ref)
    this.gap = (direction, size, ref) => this.preambleGap(direction, size, ref)
    this.end = (direction, ref) => this.preambleEnd(direction, ref)
  }

  /** What the preamble said; undefined when the connection had none (pass-through). */
  facts(): ProxyFacts | undefined {
    if (this.type === undefined || this.request === undefined) return undefined
    const facts: ProxyFacts = {type: this.type, request: this.request, tunnelOpened: this.tunnelOpened, issues: this.issues}
    if (this.truncated) facts.truncated = this.truncated
    if (this.target) facts.target = this.target
    if (this.response) facts.response = this.response
    if (this.command !== undefined) facts.command = this.command
    if (this.authentication) facts.authentication = this.authentication
    if (this.http) facts.http = this.http
    return facts
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
    const first = heldC2s !== undefined ? heldC2s.unread()[0]! : bytes[0]!
    let next: State
    if (first === SOCKS5_VERSION) {
      next = 'socks5-greeting'
      this.type = 'socks5'
    } else if (first === SOCKS4_VERSION) {
      next = 'socks4-request'
      this.type = 'socks4'
    } else {
      const prefix = this.connectPrefixMatch(heldC2s, bytes)
      if (prefix === 'no') {
        this.passThrough(bytes, ref)
        return
      }
      if (prefix === 'partial') {
        this.hold(direction, bytes, ref)
        return
      }
      next = 'http-request'
      this.type = 'http-connect'
    }
    this.request = heldC2s !== undefined ? heldC2s.refAt(0) : ref
    this.state = next
    this.hold(direction, bytes, ref)
    this.step()
    this.checkHeld(direction, ref)
  }

  /** Whether held + bytes start with "CONNECT ": yes, no, or partial (too few bytes yet). */
  private connectPrefixMatch(held: HeldBytes | undefined, bytes: Uint8Array): 'yes' | 'no' | 'partial' {
    const before = held?.unread()
    const heldLength = before?.length ?? 0
    for (let i = 0; i < CONNECT_PREFIX.length; i++) {
      const b = i < heldLength ? before![i] : i - heldLength < bytes.length ? bytes[i - heldLength] : undefined
      if (b === undefined) return 'partial'
      if (b !== CONNECT_PREFIX[i]) return 'no'
    }
    return 'yes'
  }

  /**
   * Not a proxy preamble: replay what was held (client first), then `pending` (the c2s chunk
   * being decided), and install the inner handler's methods.
   */
  private passThrough(pending?: Uint8Array, ref?: FrameRef): void {
    const {c2s, s2c} = this.held
    this.type = undefined
    this.request = undefined
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
  private stop(): void {
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
    if (this.state === 'stopped' || this.state === 'forwarding' || READS[this.state] === direction) return
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
    const state = this.state
    return state === 'http-response' || state === 'socks4-reply' || state === 'socks5-reply'
  }

  /** Advances the preamble as far as the held bytes allow. */
  private step(): void {
    for (;;) {
      const direction = READS[this.state]
      if (direction === undefined) return
      const held = this.holder(direction)
      const progressed = this.parseNext(held)
      if (this.state === 'stopped' || this.state === 'forwarding') return
      if (progressed) continue
      if (held.available > this.maxHeadBytes) {
        this.headTooLarge(direction, held)
      } else if (this.ended[direction]) {
        const at = held.length > 0 ? held.refAt(held.length - 1) : this.request!
        const what = direction === 'c2s' ? 'the client' : 'the proxy'
        this.issue('proxy.incomplete', 'warn', `from the ${senderOf(direction)}: the stream ended before ${what} finished its part of the ${this.protocolName()} preamble (${this.state})`, at)
        this.stop()
      }
      return
    }
  }

  /** Reads the message the state waits for; true when one was consumed. */
  private parseNext(held: HeldBytes): boolean {
    const bytes = held.unread()
    switch (this.state) {
      case 'http-request':
      case 'http-response': {
        const end = findHeadEnd(bytes, this.headScan)
        if (end === -1) {
          this.headScan = resumeAfterMiss(bytes.length)
          return false
        }
        this.headScan = 0
        if (end > this.maxHeadBytes) return this.headTooLarge(this.state === 'http-request' ? 'c2s' : 's2c', held)
        const ref = held.refAt(held.consumed + end - 1)
        const head = bytes.subarray(0, end)
        held.consume(end)
        if (this.state === 'http-request') this.onConnectRequest(head, ref)
        else this.onConnectResponse(head, ref)
        return true
      }
      case 'socks4-request': {
        const parsed = parseSocks4Request(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        if (this.consumeMessage(held, parsed.length, true) === undefined) return false
        this.type = parsed.socks4a ? 'socks4a' : 'socks4'
        this.command = codeName(SOCKS_COMMANDS, parsed.command)
        this.target = parsed.target
        this.state = 'socks4-reply'
        return true
      }
      case 'socks4-reply': {
        const parsed = parseSocks4Reply(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        const ref = this.consumeMessage(held, parsed.length, false)
        if (ref === undefined) return false
        this.response = {...ref, status: parsed.code, reason: codeName(SOCKS4_REPLIES, parsed.code)}
        this.decide(parsed.code === SOCKS4_GRANTED)
        return true
      }
      case 'socks5-greeting': {
        const parsed = parseSocks5Greeting(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        if (this.consumeMessage(held, parsed.length, true) === undefined) return false
        this.authentication = {offered: parsed.methods.map((method) => codeName(SOCKS5_METHODS, method))}
        this.state = 'socks5-method'
        return true
      }
      case 'socks5-method': {
        const parsed = parseSocks5MethodSelection(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        const ref = this.consumeMessage(held, parsed.length, false)
        if (ref === undefined) return false
        this.onSocks5Method(parsed.method, ref)
        return true
      }
      case 'socks5-auth': {
        const parsed = parseSocks5UserPassRequest(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        if (this.consumeMessage(held, parsed.length, false) === undefined) return false
        this.state = 'socks5-auth-reply'
        return true
      }
      case 'socks5-auth-reply': {
        const parsed = parseSocks5UserPassReply(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        if (this.consumeMessage(held, parsed.length, false) === undefined) return false
        const accepted = parsed.status === 0
        this.authentication!.accepted = accepted
        if (accepted) this.state = 'socks5-request'
        else this.decide(false)
        return true
      }
      case 'socks5-request': {
        const parsed = parseSocks5Message(bytes, 'request')
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        if (this.consumeMessage(held, parsed.length, true) === undefined) return false
        this.command = codeName(SOCKS_COMMANDS, parsed.code)
        this.target = parsed.address
        this.state = 'socks5-reply'
        return true
      }
      case 'socks5-reply': {
        const parsed = parseSocks5Message(bytes, 'reply')
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return this.malformed(parsed, held)
        const ref = this.consumeMessage(held, parsed.length, false)
        if (ref === undefined) return false
        this.response = {...ref, status: parsed.code, reason: codeName(SOCKS5_REPLIES, parsed.code)}
        this.decide(parsed.code === SOCKS5_SUCCEEDED)
        return true
      }
      default:
        return false
    }
  }

  /**
   * A message over the limit, whether it was still incomplete or came whole in one chunk (the
   * verdict must not depend on where chunks split).
   */
  private headTooLarge(direction: Direction, held: HeldBytes): false {
    this.issue('proxy.head-too-large', 'error', `from the ${senderOf(direction)}: ${this.protocolName()} message longer than ${this.maxHeadBytes} bytes; giving up`, held.refAt(held.length - 1))
    this.stop()
    return false
  }

  /** Consumes a message; its frame is the one that completed it (as tshark reports a reassembled PDU). */
  private consumeMessage(held: HeldBytes, length: number, isRequest: boolean): FrameRef | undefined {
    if (length > this.maxHeadBytes) {
      this.headTooLarge(held === this.held.c2s ? 'c2s' : 's2c', held)
      return undefined
    }
    const ref = held.refAt(held.consumed + length - 1)
    held.consume(length)
    if (isRequest) this.request = ref
    return ref
  }

  private onConnectRequest(head: Uint8Array, ref: FrameRef): void {
    const request = parseConnectRequest(head)
    this.request = ref
    if (request.target) this.target = request.target
    if (request.authorizationScheme !== undefined) this.authentication = {scheme: request.authorizationScheme, offered: []}
    if (request.malformed !== undefined) this.issue('proxy.malformed', 'warn', `c2s: CONNECT ${request.malformed}`, ref)
    this.state = 'http-response'
  }

  private onConnectResponse(head: Uint8Array, ref: FrameRef): void {
    const response = parseConnectResponse(head)
    if (!response) {
      this.issue('proxy.malformed', 'error', `s2c: the answer to CONNECT is not an HTTP response: ${describeStartLine(head)}`, ref)
      this.stop()
      return
    }
    // An interim 1xx is followed by the final response (RFC 9110 §15.2).
    if (response.status < 200) return
    this.response = {...ref, status: response.status, reason: response.reason}
    this.http = {version: response.version}
    if (response.via !== undefined) this.http.via = response.via
    if (response.server !== undefined) this.http.server = response.server
    const rejected = response.status === HTTP_PROXY_AUTHENTICATION_REQUIRED
    if (this.authentication || rejected || response.challenges.length > 0) {
      const auth = (this.authentication ??= {offered: []})
      auth.offered = response.challenges
      if (rejected) auth.accepted = false
      else if (auth.scheme !== undefined) auth.accepted = true
    }
    // Any 2xx response to CONNECT turns the connection into a tunnel (RFC 9110 §9.3.6).
    this.decide(response.status < 300)
  }

  private onSocks5Method(method: number, ref: FrameRef): void {
    const auth = this.authentication!
    if (method === SOCKS5_NO_ACCEPTABLE_METHODS) {
      auth.accepted = false
      this.decide(false)
      return
    }
    auth.scheme = codeName(SOCKS5_METHODS, method)
    if (method === SOCKS5_NO_AUTHENTICATION) {
      auth.accepted = true
      this.state = 'socks5-request'
    } else if (method === SOCKS5_USERNAME_PASSWORD) {
      this.state = 'socks5-auth'
    } else {
      // GSSAPI (RFC 1961) and the others encapsulate what follows: the request cannot be read.
      const why = method === SOCKS5_GSSAPI ? 'GSSAPI (RFC 1961) messages are not followed' : 'its subnegotiation is not known'
      this.issue('proxy.socks5-method', 'info', `s2c: the SOCKS5 proxy selected ${auth.scheme}; ${why}`, ref)
      this.stop()
    }
  }

  /** The proxy answered: open the tunnel, or stop (it refused). */
  private decide(opened: boolean): void {
    if (opened) this.openTunnel()
    else this.stop()
  }

  private malformed(parsed: Malformed, held: HeldBytes): boolean {
    const direction = held === this.held.c2s ? 'c2s' : 's2c'
    this.issue('proxy.malformed', 'error', `from the ${senderOf(direction)}: ${parsed.why}`, held.refAt(held.consumed))
    this.stop()
    return false
  }

  private protocolName(): string {
    return this.type === 'http-connect' ? 'HTTP CONNECT' : this.type === 'socks5' ? 'SOCKS5' : 'SOCKS4'
  }

  private issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void {
    pushCapped(this, 'issues', this.issues, LIST_CAPS.issuesPerSource, {code, severity, message, frame: ref.frame})
  }
}
