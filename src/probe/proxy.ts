/**
 * The HTTP proxy a Defender may have to go through: `--proxy URL` or HTTPS_PROXY (wss is https
 * for proxy purposes), minus NO_PROXY, and the CONNECT request (RFC 9110 §9.3.6) that asks it
 * for a tunnel to the Console. Basic credentials (RFC 7617) come from the proxy URL's userinfo.
 */
import {request} from 'node:http'
import type {Socket} from 'node:net'
import {UsageError} from '../errors.js'
import {redactUrl} from '../secrets.js'

export interface ProxyConfig {
  url: URL
  from: 'flag' | 'env'
}

/** The proxy to use for `host`, or undefined for a direct connection. */
export function proxyFor(host: string, flag: string | undefined, env: NodeJS.ProcessEnv): ProxyConfig | undefined {
  if (flag !== undefined) return {url: parseProxyUrl(flag, '--proxy'), from: 'flag'}
  const fromEnv = env.HTTPS_PROXY ?? env.https_proxy
  if (fromEnv === undefined || fromEnv.trim() === '') return undefined
  if (bypassed(host, env.NO_PROXY ?? env.no_proxy)) return undefined
  return {url: parseProxyUrl(fromEnv, 'HTTPS_PROXY'), from: 'env'}
}

/**
 * `http://[user:password@]host[:port]` or a bare `host:port`. Anything else is a usage error
 * (exit 2) quoting the value with its credentials replaced (src/secrets.ts): HTTPS_PROXY lands in
 * CI logs. A bare word without a port (`--proxy notaurl`) is refused here rather than looked up
 * as a host name, whose failure would read as the Console's DNS problem.
 */
function parseProxyUrl(text: string, where: string): URL {
  const value = text.trim()
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
  const shown = JSON.stringify(hasScheme ? redactUrl(value) : redactUrl(`http://${value}`).slice('http://'.length))
  const expected = 'expected http://[user:password@]host:port'
  let url: URL
  try {
    url = new URL(hasScheme ? value : `http://${value}`)
  } catch {
    throw new UsageError(`${where} ${shown} is not a proxy URL (${expected})`)
  }
  if (url.protocol !== 'http:') throw new UsageError(`${where} ${shown}: only http:// proxies (HTTP CONNECT) are supported`)
  if (url.hostname === '') throw new UsageError(`${where} ${shown}: no proxy host (${expected})`)
  if (!hasScheme && url.port === '' && !/:\d+$/.test(value)) throw new UsageError(`${where} ${shown} is not a proxy URL: no port (${expected})`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new UsageError(`${where} ${shown}: a proxy URL has no path or query (${expected})`)
  }
  if (url.port === '') url.port = '80'
  return url
}

/**
 * NO_PROXY as curl reads it: comma-separated names, `*` for all; a name matches itself and its
 * subdomains (a leading dot is optional); an optional :port is ignored here.
 */
function bypassed(host: string, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false
  const name = host.toLowerCase()
  for (const entry of noProxy.split(',')) {
    const pattern = entry.trim().toLowerCase().replace(/:\d+$/, '').replace(/^\*?\./, '')
    if (pattern === '') continue
    if (pattern === '*' || name === pattern || name.endsWith(`.${pattern}`)) return true
  }
  return false
}

/** The proxy URL without its credentials, for reports. */
export function redactedProxyUrl(url: URL): string {
  return `${url.protocol}//${url.host}`
}

export function hasBasicAuth(url: URL): boolean {
  return url.username !== ''
}

export interface ConnectResponse {
  status: number
  statusText: string
}

/**
 * Sends `CONNECT authority` on a socket already connected to the proxy and resolves with the
 * answer. node's HTTP client parses the response and hands back the raw socket on any status.
 */
export function sendConnect(socket: Socket, proxy: URL, authority: string): Promise<ConnectResponse> {
  const headers: Record<string, string> = {Host: authority}
  if (hasBasicAuth(proxy)) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`
  }
  return new Promise((resolve, reject) => {
    const req = request({method: 'CONNECT', path: authority, headers, createConnection: () => socket})
    // On 'connect' node has detached its HTTP parser: the socket (tunnel or refusal) is the caller's.
    req.once('connect', (res) => {
      resolve({status: res.statusCode ?? 0, statusText: res.statusMessage ?? ''})
    })
    req.once('error', reject)
    req.end()
  })
}
