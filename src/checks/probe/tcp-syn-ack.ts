/** tcp.syn-ack as the probe judges it: the probe's TCP connection to the Console (or the proxy) was answered. */
import type {CheckResult} from '../../model/checks.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatEndpoint, formatMs} from '../../model/format.js'
import {result, cause, notAttempted} from './common.js'

export function probeTcpSynAck(facts: ProbeFacts): CheckResult {
  const {tcp} = facts
  if (facts.dns.error) return notAttempted('tcp.syn-ack', facts)
  const what = tcp.viaProxy ? 'the proxy' : 'the Console'
  const values: Record<string, unknown> = {attempts: tcp.attempts, ms: tcp.ms}
  // Addresses that failed before the last one tried (which the summary itself is about).
  const failedBefore = tcp.attempts.slice(0, -1).filter((a) => a.error).map((a) => `${a.address} ${a.error!.code}`)
  const earlier = failedBefore.length > 0 ? ` (after ${failedBefore.join(', ')})` : ''
  if (tcp.remote && tcp.local) {
    values.local = tcp.local
    values.remote = tcp.remote
    const last = tcp.attempts[tcp.attempts.length - 1]
    return result('tcp.syn-ack', 'pass', `connected to ${what} at ${formatEndpoint(tcp.remote)} in ${formatMs(last?.ms ?? 0)} from ${formatEndpoint(tcp.local)}${earlier}`, values)
  }
  const error = tcp.error ?? {code: 'ERROR', message: 'no connection'}
  const port = facts.proxy ? Number(new URL(facts.proxy.url).port) : facts.target.port
  const address = tcp.attempts[tcp.attempts.length - 1]?.address ?? facts.dns.name
  const where = formatEndpoint({ip: address, port})
  const refusedBy = facts.proxy ? `the proxy ${where}` : where
  // Through a proxy the refusal is the proxy's: its address comes from --proxy or HTTPS_PROXY, not the Console URL.
  const proxyOrigin = facts.proxy ? ` (${facts.proxy.url}, from ${facts.proxy.from === 'flag' ? '--proxy' : 'HTTPS_PROXY'})` : ''
  switch (error.code) {
    case 'ECONNREFUSED':
      return result('tcp.syn-ack', 'fail', `connection refused by ${refusedBy} (RST answered the SYN)${earlier}`, values, `nothing listens on ${where}, or a firewall rejects it; check that ${what}${proxyOrigin} is running and listening on port ${port}`)
    case 'ETIMEDOUT':
      return result('tcp.syn-ack', 'fail', `no SYN-ACK from ${where}: ${error.message}${earlier}`, values, `the SYNs go unanswered: a firewall or security group drops port ${port} between here and ${what}, or the address is wrong`)
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return result('tcp.syn-ack', 'fail', `${where} is unreachable: ${cause(error)}${earlier}`, values, 'no route to that address from here: check routing, and an ICMP-rejecting firewall on the way')
    default:
      return result('tcp.syn-ack', 'fail', `connecting to ${where} failed: ${cause(error)}${earlier}`, values)
  }
}
