/**
 * SOCKS5 (RFC 1928) as a proxy preamble: greeting / method selection / [RFC 1929
 * username/password] / request / reply; REP 0 opens the tunnel.
 */
import type {FrameRef} from '../../stream/types.js'
import type {HeldBytes} from './held-bytes.js'
import type {PreambleMessages, PreambleSession, ProxyPreambleProtocol} from './preamble-protocol.js'
import {
  SOCKS5_GSSAPI,
  SOCKS5_METHODS,
  SOCKS5_NO_ACCEPTABLE_METHODS,
  SOCKS5_NO_AUTHENTICATION,
  SOCKS5_REPLIES,
  SOCKS5_USERNAME_PASSWORD,
  SOCKS5_VERSION,
  SOCKS_COMMANDS,
  codeName,
  parseSocks5Greeting,
  parseSocks5Message,
  parseSocks5MethodSelection,
  parseSocks5UserPassReply,
  parseSocks5UserPassRequest,
} from './socks.js'

const SOCKS5_SUCCEEDED = 0

type State = 'socks5-greeting' | 'socks5-method' | 'socks5-auth' | 'socks5-auth-reply' | 'socks5-request' | 'socks5-reply'

/** Which direction each message comes from. */
const READS: Record<State, 'c2s' | 's2c'> = {
  'socks5-greeting': 'c2s',
  'socks5-method': 's2c',
  'socks5-auth': 'c2s',
  'socks5-auth-reply': 's2c',
  'socks5-request': 'c2s',
  'socks5-reply': 's2c',
}

class Socks5Messages implements PreambleMessages {
  state: State = 'socks5-greeting'

  constructor(private readonly session: PreambleSession) {}

  get reads(): 'c2s' | 's2c' {
    return READS[this.state]
  }

  get clientDone(): boolean {
    return this.state === 'socks5-reply'
  }

  parseNext(held: HeldBytes): boolean {
    const {session} = this
    const said = session.said
    const bytes = held.unread()
    switch (this.state) {
      case 'socks5-greeting': {
        const parsed = parseSocks5Greeting(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return session.malformed(parsed, held)
        if (session.consumeMessage(held, parsed.length, true) === undefined) return false
        said.authentication = {offered: parsed.methods.map((method) => codeName(SOCKS5_METHODS, method))}
        this.state = 'socks5-method'
        return true
      }
      case 'socks5-method': {
        const parsed = parseSocks5MethodSelection(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return session.malformed(parsed, held)
        const ref = session.consumeMessage(held, parsed.length, false)
        if (ref === undefined) return false
        this.onMethod(parsed.method, ref)
        return true
      }
      case 'socks5-auth': {
        const parsed = parseSocks5UserPassRequest(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return session.malformed(parsed, held)
        if (session.consumeMessage(held, parsed.length, false) === undefined) return false
        this.state = 'socks5-auth-reply'
        return true
      }
      case 'socks5-auth-reply': {
        const parsed = parseSocks5UserPassReply(bytes)
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return session.malformed(parsed, held)
        if (session.consumeMessage(held, parsed.length, false) === undefined) return false
        const accepted = parsed.status === 0
        said.authentication!.accepted = accepted
        if (accepted) this.state = 'socks5-request'
        else session.decide(false)
        return true
      }
      case 'socks5-request': {
        const parsed = parseSocks5Message(bytes, 'request')
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return session.malformed(parsed, held)
        if (session.consumeMessage(held, parsed.length, true) === undefined) return false
        said.command = codeName(SOCKS_COMMANDS, parsed.code)
        said.target = parsed.address
        this.state = 'socks5-reply'
        return true
      }
      case 'socks5-reply': {
        const parsed = parseSocks5Message(bytes, 'reply')
        if (parsed.kind === 'more') return false
        if (parsed.kind === 'malformed') return session.malformed(parsed, held)
        const ref = session.consumeMessage(held, parsed.length, false)
        if (ref === undefined) return false
        said.response = {...ref, status: parsed.code, reason: codeName(SOCKS5_REPLIES, parsed.code)}
        session.decide(parsed.code === SOCKS5_SUCCEEDED)
        return true
      }
    }
  }

  private onMethod(method: number, ref: FrameRef): void {
    const {session} = this
    const auth = session.said.authentication!
    if (method === SOCKS5_NO_ACCEPTABLE_METHODS) {
      auth.accepted = false
      session.decide(false)
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
      session.issue('proxy.socks5-method', 'info', `s2c: the SOCKS5 proxy selected ${auth.scheme}; ${why}`, ref)
      session.stop()
    }
  }
}

export const socks5Preamble: ProxyPreambleProtocol = {
  type: 'socks5',
  name: 'SOCKS5',
  recognise: (at) => (at(0) === SOCKS5_VERSION ? 'yes' : 'no'),
  messages: (session) => new Socks5Messages(session),
}
