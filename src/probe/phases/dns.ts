/** Phase 1, name resolution: getaddrinfo, like the Defender's resolver (/etc/hosts included). */
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import type {DnsFacts} from '../../model/probe.js'
import {failureOf, withTimeout} from '../failure.js'
import {elapsed} from './common.js'

/** Fills `dns.addresses` (an IP literal is its own address); false when the name did not resolve (`dns.error` says why). */
export async function resolveName(dns: DnsFacts, timeoutMs: number): Promise<boolean> {
  if (dns.literal) {
    dns.addresses = [{address: dns.name, family: isIP(dns.name) as 4 | 6}]
    return true
  }
  const t0 = performance.now()
  try {
    const found = await withTimeout(lookup(dns.name, {all: true, verbatim: true}), timeoutMs, `from the resolver for ${dns.name}`)
    dns.addresses = found.map((a) => ({address: a.address, family: a.family as 4 | 6}))
    dns.ms = elapsed(t0)
    return true
  } catch (error) {
    dns.ms = elapsed(t0)
    dns.error = failureOf(error)
    return false
  }
}
