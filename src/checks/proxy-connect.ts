/**
 * proxy.connect — when the Defender reaches the Console through a proxy, the proxy opened the
 * tunnel to the Console: HTTP CONNECT answered 2xx (RFC 9110 §9.3.6), SOCKS4 CD 90, SOCKS5 REP 0
 * (RFC 1928 §6). A refusal is named with its status and what to do about it; a tunnel to a port
 * that is not a Console port is a warning (the Defender went through the proxy to something else).
 */
import type {ConnectionFacts} from '../model/facts.js'
import type {ProxyFacts, ProxyTarget} from '../protocols/proxy/types.js'
import type {CheckResult, CheckStatus} from '../model/checks.js'
import type {Policy} from '../model/policy.js'

/** The proxy facts of a connection (the one place the checks reach into ConnectionFacts for them). */
export function proxyFactsOf(facts: ConnectionFacts): ProxyFacts | undefined {
  return (facts as ConnectionFacts & {proxy?: ProxyFacts}).proxy
}

const PROTOCOL: Record<ProxyFacts['type'], string> = {
  'http-connect': 'HTTP CONNECT',
  socks4: 'SOCKS4',
  socks4a: 'SOCKS4a',
  socks5: 'SOCKS5',
}

/** `console.test:8084`, `[2001:db8::1]:8084`. */
function formatTarget(target: ProxyTarget | undefined): string {
  if (!target) return '(target not seen)'
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
}

/** How the answer is written: `200 Connection established`, `succeeded (REP 0)`, `request granted (CD 90)`. */
function describeAnswer(proxy: ProxyFacts): string {
  const response = proxy.response!
  if (proxy.type === 'http-connect') return `${response.status}${response.reason ? ' ' + response.reason : ''}`
  return `${response.reason} (${proxy.type === 'socks5' ? 'REP' : 'CD'} ${response.status})`
}

function result(proxy: ProxyFacts, status: CheckStatus, summary: string, hint?: string): CheckResult {
  const frames = [proxy.request.frame]
  if (proxy.response) frames.push(proxy.response.frame)
  const values: Record<string, unknown> = {type: proxy.type, tunnelOpened: proxy.tunnelOpened}
  if (proxy.target) values.target = formatTarget(proxy.target)
  if (proxy.command !== undefined) values.command = proxy.command
  if (proxy.response) {
    values.status = proxy.response.status
    values.reason = proxy.response.reason
  }
  if (proxy.authentication) values.authentication = proxy.authentication
  if (proxy.http?.via !== undefined) values.via = proxy.http.via
  if (proxy.http?.server !== undefined) values.server = proxy.http.server
  const check: CheckResult = {id: 'proxy.connect', status, confidence: 'observed', summary, evidence: {frames, values}}
  if (hint !== undefined) check.hint = hint
  return check
}

/** What to do about an HTTP proxy's refusal, by status (RFC 9110 §15). */
function httpHint(proxy: ProxyFacts, target: string): string {
  const {status, reason} = proxy.response!
  const port = proxy.target?.port
  if (status === 407) {
    const auth = proxy.authentication
    const offers = auth && auth.offered.length > 0 ? ` (it offers ${auth.offered.join(', ')})` : ''
    if (auth?.scheme !== undefined) return `the proxy rejected the Defender's ${auth.scheme} credentials${offers}: check the proxy user and password configured for the Defender`
    return `the proxy wants credentials${offers} and the Defender sent none: configure the Defender's proxy user and password`
  }
  if (status === 403) {
    return `the proxy's rules forbid CONNECT to ${target}: allow the Console's host and port${port ? ' ' + port : ''} on the proxy (many proxies allow CONNECT to port 443 only)`
  }
  if (status === 502 || status === 503 || status === 504) {
    return `the proxy could not reach the Console at ${target} (${status} ${reason}): check DNS and routing from the proxy to the Console, and that the Console listens on port ${port ?? '?'}`
  }
  return `the proxy refused the tunnel with ${status}${reason ? ' ' + reason : ''}: see the proxy's logs`
}

/** What to do about a SOCKS proxy's refusal, by reply code (RFC 1928 §6; SOCKS4 CD 91-93). */
function socksHint(proxy: ProxyFacts, target: string): string {
  const {status, reason} = proxy.response!
  const port = proxy.target?.port ?? '?'
  if (proxy.type !== 'socks5') {
    if (status === 92 || status === 93) return `the SOCKS4 proxy checks the Defender's user with identd (${reason}): run identd on the Defender host or use a proxy that does not`
    return `the SOCKS4 proxy rejected the request or could not connect to ${target}: check its rules, and that it reaches the Console on port ${port}`
  }
  switch (status) {
    case 0x02:
      return `the proxy's rules forbid ${target} (${reason}): allow the Console's host and port ${port} on the proxy`
    case 0x03:
    case 0x04:
    case 0x06:
      return `the proxy could not reach the Console at ${target} (${reason}): check routing from the proxy to the Console`
    case 0x05:
      return `the Console at ${target} refused the proxy's connection: check that the Console listens on port ${port}`
    case 0x07:
      return `the proxy does not support the ${proxy.command ?? 'requested'} command: the Defender needs CONNECT`
    case 0x08:
      return `the proxy does not accept this address type for ${target}: give the Defender the Console's IPv4 address, or use a proxy that resolves names`
    default:
      return `the SOCKS5 proxy failed (${reason}): see the proxy's logs`
  }
}

export function checkProxyConnect(facts: ConnectionFacts, policy: Policy): CheckResult {
  const proxy = proxyFactsOf(facts)
  if (!proxy) {
    return {id: 'proxy.connect', status: 'skip', confidence: 'observed', summary: 'no proxy in front of the connection', evidence: {frames: []}}
  }
  const protocol = PROTOCOL[proxy.type]
  const command = proxy.type === 'http-connect' ? protocol : `${protocol} ${proxy.command ?? 'request'}`
  const target = formatTarget(proxy.target)

  if (proxy.tunnelOpened) {
    const opened = `${command} ${target} through the proxy answered ${describeAnswer(proxy)} (frame ${proxy.response!.frame})`
    const port = proxy.target?.port
    if (port !== undefined && policy.ports.length > 0 && !policy.ports.includes(port)) {
      return result(
        proxy,
        'warn',
        `${opened}, but port ${port} is not a Console port (${policy.ports.join(', ')})`,
        `the Defender went through the proxy to something other than the Console: check the Console address it is configured with (or give --port ${port} if the Console does listen there)`,
      )
    }
    return result(proxy, 'pass', opened)
  }

  const auth = proxy.authentication
  if (proxy.type === 'socks5' && auth?.accepted === false) {
    if (auth.scheme === undefined) {
      return result(
        proxy,
        'fail',
        `the SOCKS5 proxy accepted none of the authentication methods the Defender offered (${auth.offered.join(', ')})`,
        'configure the Defender with the credentials the proxy requires (usually username/password)',
      )
    }
    return result(proxy, 'fail', `the SOCKS5 proxy rejected the Defender's ${auth.scheme} authentication`, `check the proxy user and password configured for the Defender`)
  }

  if (proxy.response) {
    const summary = `${command} ${target} refused by the proxy: ${describeAnswer(proxy)} (frame ${proxy.response.frame})`
    return result(proxy, 'fail', summary, proxy.type === 'http-connect' ? httpHint(proxy, target) : socksHint(proxy, target))
  }

  // No answer: say why the preamble could not be followed, or how the connection ended.
  const issue = proxy.issues[0]
  if (issue?.code === 'proxy.gap' || issue?.code === 'proxy.socks5-method') {
    return result(proxy, 'skip', `${command} ${target}: ${issue.message}`, 'the proxy handshake could not be followed to its answer in this capture')
  }
  if (issue && issue.code !== 'proxy.incomplete') {
    return result(proxy, 'fail', `${command} ${target}: the proxy handshake could not be read: ${issue.message}`, 'the bytes before TLS are not a well-formed proxy handshake: check the Defender\'s proxy setting (scheme and port) against what the proxy speaks')
  }
  const ended = facts.tcp.rst[0] ?? facts.tcp.fin[0]
  if (ended) {
    const how = facts.tcp.rst.length > 0 ? 'reset' : 'closed'
    return result(
      proxy,
      'fail',
      `${command} ${target} (frame ${proxy.request.frame}) got no answer: the connection was ${how} by the ${ended.from} in frame ${ended.frame}`,
      'the proxy dropped the request without answering: see the proxy\'s logs',
    )
  }
  return result(
    proxy,
    'skip',
    `${command} ${target} (frame ${proxy.request.frame}): the proxy's answer is not in the capture`,
    'capture longer: the capture ended before the proxy answered',
  )
}
