/** SOCKS4/4a as a proxy preamble: request, reply; CD 90 opens the tunnel. */
import type {HeldBytes} from './held-bytes.js'
import type {PreambleMessages, PreambleSession, ProxyPreambleProtocol} from './preamble-protocol.js'
import {SOCKS4_REPLIES, SOCKS4_VERSION, SOCKS_COMMANDS, codeName, parseSocks4Reply, parseSocks4Request} from './socks.js'

const SOCKS4_GRANTED = 90

type State = 'socks4-request' | 'socks4-reply'

class Socks4Messages implements PreambleMessages {
  state: State = 'socks4-request'

  constructor(private readonly session: PreambleSession) {}

  get reads(): 'c2s' | 's2c' {
    return this.state === 'socks4-request' ? 'c2s' : 's2c'
  }

  get clientDone(): boolean {
    return this.state === 'socks4-reply'
  }

  parseNext(held: HeldBytes): boolean {
    const {session} = this
    const bytes = held.unread()
    if (this.state === 'socks4-request') {
      const parsed = parseSocks4Request(bytes)
      if (parsed.kind === 'more') return false
      if (parsed.kind === 'malformed') return session.malformed(parsed, held)
      if (session.consumeMessage(held, parsed.length, true) === undefined) return false
      session.said.type = parsed.socks4a ? 'socks4a' : 'socks4'
      session.said.command = codeName(SOCKS_COMMANDS, parsed.command)
      session.said.target = parsed.target
      this.state = 'socks4-reply'
      return true
    }
    const parsed = parseSocks4Reply(bytes)
    if (parsed.kind === 'more') return false
    if (parsed.kind === 'malformed') return session.malformed(parsed, held)
    const ref = session.consumeMessage(held, parsed.length, false)
    if (ref === undefined) return false
    session.said.response = {...ref, status: parsed.code, reason: codeName(SOCKS4_REPLIES, parsed.code)}
    session.decide(parsed.code === SOCKS4_GRANTED)
    return true
  }
}

export const socks4Preamble: ProxyPreambleProtocol = {
  type: 'socks4',
  name: 'SOCKS4',
  recognise: (at) => (at(0) === SOCKS4_VERSION ? 'yes' : 'no'),
  messages: (session) => new Socks4Messages(session),
}
