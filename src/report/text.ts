/**
 * Wording shared by the human-facing renderers (table, HTML, JUnit): the policy in one line, the
 * capture's time span, a connection's TLS at a glance, and what to say when no Console traffic
 * was found.
 */
import {isCaptureFacts, type AnalysisReport, type ConnectionReport} from '../model/report.js'
import type {Policy} from '../model/policy.js'
import type {HairpinFacts} from '../stream/types.js'
import {formatEndpoint, formatMs} from '../model/format.js'

/** `port 8084, TLS 1.3 (1.2 warns), console console.example.com, CA ca.pem, pin sha256:…` */
export function describePolicy(policy: Policy): string {
  const parts = [policy.ports.length === 0 ? 'any port' : `port${policy.ports.length === 1 ? '' : 's'} ${policy.ports.join(', ')}`]
  parts.push(policy.minTls === undefined ? 'TLS 1.3 (1.2 warns)' : `min TLS ${policy.minTls}`)
  if (policy.saas === true) parts.push('SaaS (token, no client certificate)')
  if (policy.strict === true) parts.push('strict (a warning fails)')
  if (policy.console !== undefined) parts.push(`console ${policy.console}`)
  if (policy.caFile !== undefined) parts.push(`CA ${policy.caFile}`)
  if (policy.pin !== undefined) parts.push(`pin ${policy.pin}`)
  return parts.join(', ')
}

/** A duration for a person: `0.011 ms`, `75.3 ms`, `12.345 s`. */
export function formatDuration(seconds: number): string {
  return seconds < 1 ? formatMs(seconds * 1000) : `${seconds.toFixed(3)} s`
}

/** Seconds between two ISO-8601 times (ms precision, as the report carries them). */
export function isoSpanSeconds(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000
}

export interface NoTrafficText {
  /** `No traffic to the Console port(s) 8084 found` */
  headline: string
  /** `seen instead: 10.0.0.5:443 (120 packets), ...` or that nothing else was seen. */
  seenInstead: string
  /** What to try next. */
  advice: string
}

/** What to tell the user when the capture held no connection to the Console. */
export function describeNoTraffic(report: AnalysisReport): NoTrafficText {
  const {policy} = report
  const where = policy.consoleIp !== undefined ? ` at ${policy.consoleIp}` : ''
  const headline =
    policy.ports.length === 0
      ? `No TCP traffic${where} found`
      : `No traffic to the Console port(s) ${policy.ports.join(', ')}${where} found`
  const servers = report.otherTraffic?.servers ?? []
  if (servers.length === 0) {
    return {
      headline,
      seenInstead: 'seen instead: no other TCP traffic either',
      advice: 'check that the capture ran on the interface the Defender uses (tcpdump -i any) and that its filter keeps the Console port',
    }
  }
  const seenInstead = `seen instead: ${servers.map((s) => `${formatEndpoint(s)} (${s.packets} packet${s.packets === 1 ? '' : 's'})`).join(', ')}`
  const busiest = servers.find((s) => !policy.ports.includes(s.port))
  let advice = 'the Console port was seen, but not to the address or name given with --console: check --console'
  if (busiest !== undefined) {
    advice =
      busiest.port === 443
        ? 'a SaaS Console, or one on 443, needs --port 443'
        : `if the Console listens on another port, say so with --port (e.g. --port ${busiest.port}; a SaaS Console uses 443)`
  }
  return {headline, seenInstead, advice}
}

/**
 * What a person looks for first in a TLS connection: version, cipher, SNI, ALPN, JA4, the
 * certificate's subject — as parts, for each renderer to join and escape its own way.
 */
export function describeTls(connection: ConnectionReport): string[] {
  const tls = isCaptureFacts(connection.facts) ? connection.facts.tls : undefined
  if (!tls) return []
  if (tls.notTls) return [`not TLS: the ${tls.notTls.direction === 'c2s' ? 'client' : 'server'} sent ${tls.notTls.firstBytes} (frame ${tls.notTls.frame})`]
  const hello = tls.clientHellos[0]
  const parts: string[] = []
  if (tls.versionName) parts.push(tls.versionName)
  if (tls.cipherSuiteName) parts.push(tls.cipherSuiteName)
  if (tls.helloRetryRequest) parts.push('after HelloRetryRequest')
  if (hello?.sni) parts.push(`SNI ${hello.sni}`)
  const alpn = tls.serverHello?.alpn ?? hello?.alpn?.join(',')
  if (alpn) parts.push(`ALPN ${alpn}`)
  if (hello) parts.push(`JA4 ${hello.ja4}`)
  const leaf = tls.serverCertificate?.certificates[0]
  if (leaf) parts.push(`certificate ${leaf.subject} (issuer ${leaf.issuer}, until ${leaf.notAfter.slice(0, 10)})`)
  return parts
}

/**
 * A Microperimeter hairpin's legs and cost, one line: `hairpin: workload 10.55.0.2 -> firewall
 * 10.55.2.2 -> workload, then on; 34 packets (68 copies counted once), +5.035 ms median, 12.61 ms max`.
 */
export function describeHairpin(hairpin: HairpinFacts, arrow: string): string {
  const latency = hairpin.latencyMs ? `, +${hairpin.latencyMs.median} ms median, ${hairpin.latencyMs.max} ms max` : ''
  const clearOnly = hairpin.notRedirected > 0 ? `, ${hairpin.notRedirected} in clear only` : ''
  return (
    `hairpin: workload ${hairpin.workload} ${arrow} firewall ${hairpin.firewall} ${arrow} workload, then on; ` +
    `${hairpin.hairpinned} packet${hairpin.hairpinned === 1 ? '' : 's'} hairpinned (${hairpin.copies} copies counted once)${clearOnly}${latency}`
  )
}
