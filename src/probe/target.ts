/**
 * What the probe connects to: `wss://console.example.com:8084/path` or a bare `host[:port]`
 * (wss on the Console's default port 8084). A wss URL without a port means 443, as URLs do
 * (RFC 6455 §3), which is also the SaaS Console's port.
 */
import {isIP} from 'node:net'
import {DEFAULT_CONSOLE_PORT} from '../analysis/policy.js'
import {UsageError} from '../errors.js'
import {redactUrl} from '../secrets.js'
import type {ProbeTarget} from '../model/probe.js'

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

export function parseProbeTarget(input: string, servername?: string): ProbeTarget {
  const text = input.trim()
  if (text === '') throw new UsageError('the probe needs a URL (wss://console:8084/) or a host[:port]')
  const url = SCHEME.test(text) ? parseUrl(text) : parseBare(text)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port === '' ? 443 : Number(url.port)
  const path = `${url.pathname || '/'}${url.search}`
  const target: ProbeTarget = {url: url.href, host, port, path}
  const name = servername?.trim()
  if (name !== undefined && name !== '') target.servername = name
  else if (isIP(host) === 0) target.servername = host
  return target
}

function parseUrl(text: string): URL {
  // Error lines quote the URL without its credentials (userinfo, ?token=): they end up in logs.
  const shown = redactUrl(text)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`${JSON.stringify(shown)} is not a URL`)
  }
  if (url.protocol === 'ws:') throw new UsageError(`${shown}: the Console speaks TLS: use wss://`)
  if (url.protocol !== 'wss:') throw new UsageError(`${shown}: the probe speaks WebSocket over TLS: use a wss:// URL (or a bare host:port)`)
  if (url.hostname === '') throw new UsageError(`${shown}: no host in the URL`)
  if (url.username !== '' || url.password !== '') throw new UsageError(`${shown}: credentials in the Console URL are not used; remove them`)
  return url
}

/** `host`, `host:port`, `[v6]:port`, or a bare IPv6 address. */
function parseBare(text: string): URL {
  const shown = redactUrl(`wss://${text}`).slice('wss://'.length)
  const authority = isIP(text) === 6 ? `[${text}]` : text
  let url: URL
  try {
    url = new URL(`wss://${authority}`)
  } catch {
    throw new UsageError(`${JSON.stringify(shown)} is neither a wss:// URL nor a host[:port]`)
  }
  if (url.username !== '' || url.password !== '' || url.hostname === '') throw new UsageError(`${JSON.stringify(shown)} is neither a wss:// URL nor a host[:port]`)
  // No port written: the Console's 8084. (`host:443` leaves url.port empty, the wss default, read as 443.)
  if (!/^(\[[^\]]*\]|[^/:?#]*):\d+/.test(authority)) url.port = String(DEFAULT_CONSOLE_PORT)
  return url
}
