/**
 * HTTP CONNECT (RFC 9110 §9.3.6) as a proxy preamble: the request head, then the response head;
 * a 2xx opens the tunnel. Bytes the client sends after its head belong to the tunnel, even before
 * the answer (RFC 9110 §9.3.6 lets a client pipeline them).
 */
import type {FrameRef} from '../../stream/types.js'
import type {HeldBytes} from './held-bytes.js'
import {CONNECT_PREFIX, describeStartLine, findHeadEnd, parseConnectRequest, parseConnectResponse, resumeAfterMiss} from './http-connect.js'
import type {PreambleMessages, PreambleSession, ProxyPreambleProtocol} from './preamble-protocol.js'

const HTTP_PROXY_AUTHENTICATION_REQUIRED = 407

type State = 'http-request' | 'http-response'

class ConnectMessages implements PreambleMessages {
  state: State = 'http-request'
  /** Where findHeadEnd resumes in the unread bytes of the direction being read. */
  private headScan = 0

  constructor(private readonly session: PreambleSession) {}

  get reads(): 'c2s' | 's2c' {
    return this.state === 'http-request' ? 'c2s' : 's2c'
  }

  get clientDone(): boolean {
    return this.state === 'http-response'
  }

  parseNext(held: HeldBytes): boolean {
    const bytes = held.unread()
    const end = findHeadEnd(bytes, this.headScan)
    if (end === -1) {
      this.headScan = resumeAfterMiss(bytes.length)
      return false
    }
    this.headScan = 0
    if (end > this.session.maxHeadBytes) return this.session.headTooLarge(this.state === 'http-request' ? 'c2s' : 's2c', held)
    const ref = held.refAt(held.consumed + end - 1)
    const head = bytes.subarray(0, end)
    held.consume(end)
    if (this.state === 'http-request') this.onConnectRequest(head, ref)
    else this.onConnectResponse(head, ref)
    return true
  }

  private onConnectRequest(head: Uint8Array, ref: FrameRef): void {
    const said = this.session.said
    const request = parseConnectRequest(head)
    said.request = ref
    if (request.target) said.target = request.target
    if (request.authorizationScheme !== undefined) said.authentication = {scheme: request.authorizationScheme, offered: []}
    if (request.malformed !== undefined) this.session.issue('proxy.malformed', 'warn', `c2s: CONNECT ${request.malformed}`, ref)
    this.state = 'http-response'
  }

  private onConnectResponse(head: Uint8Array, ref: FrameRef): void {
    const said = this.session.said
    const response = parseConnectResponse(head)
    if (!response) {
      this.session.issue('proxy.malformed', 'error', `s2c: the answer to CONNECT is not an HTTP response: ${describeStartLine(head)}`, ref)
      this.session.stop()
      return
    }
    // An interim 1xx is followed by the final response (RFC 9110 §15.2).
    if (response.status < 200) return
    said.response = {...ref, status: response.status, reason: response.reason}
    said.http = {version: response.version}
    if (response.via !== undefined) said.http.via = response.via
    if (response.server !== undefined) said.http.server = response.server
    const rejected = response.status === HTTP_PROXY_AUTHENTICATION_REQUIRED
    if (said.authentication || rejected || response.challenges.length > 0) {
      const auth = (said.authentication ??= {offered: []})
      auth.offered = response.challenges
      if (rejected) auth.accepted = false
      else if (auth.scheme !== undefined) auth.accepted = true
    }
    // Any 2xx response to CONNECT turns the connection into a tunnel (RFC 9110 §9.3.6).
    this.session.decide(response.status < 300)
  }
}

export const httpConnectPreamble: ProxyPreambleProtocol = {
  type: 'http-connect',
  name: 'HTTP CONNECT',
  /** "CONNECT ": yes, no, or partial (too few bytes yet). */
  recognise(at) {
    for (let i = 0; i < CONNECT_PREFIX.length; i++) {
      const b = at(i)
      if (b === undefined) return 'partial'
      if (b !== CONNECT_PREFIX[i]) return 'no'
    }
    return 'yes'
  },
  messages: (session) => new ConnectMessages(session),
}
