/** The proxy preamble's share of the ladder: its request and the proxy's answer, before TLS. */
import type {ProxyFacts} from '../../protocols/proxy/types.js'
import type {Add, LadderPart} from './events.js'

export const proxyLadder: LadderPart = {
  events({facts, add}) {
    if (facts.proxy) addProxyEvents(facts.proxy, add)
  },
}

const PROXY_NAMES: Record<ProxyFacts['type'], string> = {'http-connect': 'CONNECT', socks4: 'SOCKS4', socks4a: 'SOCKS4a', socks5: 'SOCKS5'}

/**
 * The proxy's preamble (RFC 9110 §9.3.6, RFC 1928 §4 and §6): `CONNECT console.test:8084` and
 * `407 Proxy Authentication Required`; `SOCKS5 CONNECT console.test:8084` and `reply: succeeded`.
 * Only scheme and method names, never credentials (the facts hold none).
 */
function addProxyEvents(proxy: ProxyFacts, add: Add): void {
  const http = proxy.type === 'http-connect'
  const name = PROXY_NAMES[proxy.type]
  const target = proxy.target && (proxy.target.host.includes(':') ? `[${proxy.target.host}]:${proxy.target.port}` : `${proxy.target.host}:${proxy.target.port}`)
  const auth = proxy.authentication
  const request: string[] = []
  const response: string[] = []
  if (http) {
    if (auth?.scheme !== undefined) request.push(`Proxy-Authorization ${auth.scheme}`)
    if (auth && auth.offered.length > 0) response.push(`Proxy-Authenticate ${auth.offered.join(', ')}`)
  } else if (auth) {
    if (auth.offered.length > 0) request.push(`methods ${auth.offered.join(', ')}`)
    if (auth.scheme !== undefined) response.push(`method ${auth.scheme}${auth.accepted === false ? ' rejected' : ''}`)
    else if (auth.accepted === false) response.push('no acceptable method')
  }
  if (!target) request.push('request not seen whole')
  const label = http ? (target ? `CONNECT ${target}` : 'CONNECT') : `${name} ${proxy.command ?? 'CONNECT'}${target ? ` ${target}` : ''}`
  add(1, proxy.request, 'client', 'proxy-request', label, request.length > 0 ? {detail: request.join(', ')} : {})
  const answer = proxy.response
  if (!answer) return
  if (!http) response.unshift(`${proxy.type === 'socks5' ? 'REP' : 'CD'} ${answer.status}`)
  if (proxy.tunnelOpened) response.push('tunnel open')
  const answerLabel = http ? `${answer.status} ${answer.reason}`.trim() : `reply: ${answer.reason}`
  add(1, answer, 'server', 'proxy-response', answerLabel, response.length > 0 ? {detail: response.join(', ')} : {})
}
