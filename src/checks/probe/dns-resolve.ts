/** dns.resolve as the probe judges it: the Console's name (or the proxy's) resolves. */
import type {CheckResult} from '../../model/checks.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatMs} from '../../model/format.js'
import {result, cause} from './common.js'

export function probeDnsResolve(facts: ProbeFacts): CheckResult {
  const {dns} = facts
  const proxyNote = facts.proxy ? ' (the proxy\'s name; the proxy resolves the Console\'s)' : ''
  if (dns.literal) return result('dns.resolve', 'skip', `${dns.name} is an IP address: nothing to resolve${proxyNote}`)
  const values = {name: dns.name, addresses: dns.addresses.map((a) => a.address), ms: dns.ms}
  if (dns.error) {
    const hint =
      dns.error.code === 'ENOTFOUND'
        ? `${dns.name} has no address: check the name (Console address in the Defender's configuration), DNS and /etc/hosts`
        : dns.error.code === 'ETIMEDOUT' || dns.error.code === 'EAI_AGAIN'
          ? 'the resolver did not answer: check /etc/resolv.conf and that DNS (UDP/TCP 53) is reachable'
          : undefined
    return result('dns.resolve', 'fail', `${dns.name} did not resolve${proxyNote}: ${cause(dns.error)}`, values, hint)
  }
  const list = dns.addresses.map((a) => a.address).join(', ')
  return result('dns.resolve', 'pass', `${dns.name} resolved to ${list} in ${formatMs(dns.ms ?? 0)}${proxyNote}`, values)
}
