/** Phase 3, with a proxy: the HTTP CONNECT tunnel to the Console (RFC 9110 §9.3.6). */
import type {Socket} from 'node:net'
import type {ProxyFacts} from '../../model/probe.js'
import {failureOf, withTimeout} from '../failure.js'
import {sendConnect, type ProxyConfig} from '../proxy.js'
import {elapsed} from './common.js'

/** True when the proxy opened the tunnel (2xx); otherwise `proxy.error` says why. */
export async function openTunnel(socket: Socket, proxy: ProxyConfig, facts: ProxyFacts, timeoutMs: number): Promise<boolean> {
  const authority = facts.authority
  const t0 = performance.now()
  try {
    const answer = await withTimeout(sendConnect(socket, proxy.url, authority), timeoutMs, `to CONNECT ${authority} from the proxy`)
    facts.ms = elapsed(t0)
    facts.status = answer.status
    facts.statusText = answer.statusText
    if (answer.status < 200 || answer.status > 299) {
      facts.error = {code: `HTTP_${answer.status}`, message: `the proxy answered ${answer.status} ${answer.statusText}`.trim()}
      return false
    }
    return true
  } catch (error) {
    facts.ms = elapsed(t0)
    facts.error = failureOf(error)
    return false
  }
}
