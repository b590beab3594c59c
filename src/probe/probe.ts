/**
 * The active probe: what a Defender does to reach its Console, one phase at a time, each with a
 * deadline and each in its own file under phases/ — resolve the name (dns.ts), connect TCP
 * (connect.ts), optionally through an HTTP proxy's CONNECT (tunnel.ts), TLS with node:tls and the
 * Defender's client certificate when given (tls.ts), the WebSocket upgrade with ws over that TLS
 * socket (upgrade.ts), a ping (ping.ts), optionally a held session (hold.ts), and a clean close
 * (close.ts). Every phase records what it saw in ProbeFacts; a failed phase ends the probe and
 * names its cause. The checks are built from the facts afterwards (src/checks/probe/).
 */
import {closeSync, openSync} from 'node:fs'
import {isIP} from 'node:net'
import type {ProbeFacts} from '../model/probe.js'
import {redactUrl} from '../secrets.js'
import {withTimeout} from './failure.js'
import {hasBasicAuth, redactedProxyUrl, type ProxyConfig} from './proxy.js'
import {closeSession} from './phases/close.js'
import {formatAuthority, noteAlert} from './phases/common.js'
import {connectTcpPhase} from './phases/connect.js'
import {resolveName} from './phases/dns.js'
import {hold} from './phases/hold.js'
import {pingOnce} from './phases/ping.js'
import {connectionCertificates} from './phases/certificates.js'
import {tlsHandshake, type HandshakeOptions} from './phases/tls.js'
import {openTunnel} from './phases/tunnel.js'
import {upgradeToWebSocket, type UpgradeOptions} from './phases/upgrade.js'

/** What the probe is asked to do: the handshake options (target, credentials, --min-tls, --insecure, the deadline of each phase), the upgrade options (headers, subprotocols), and the rest. */
export interface ProbeOptions extends HandshakeOptions, UpgradeOptions {
  /** Keep the session open this long after the first ping, pinging it (ms). */
  holdMs?: number
  proxy?: ProxyConfig
  /** Append the TLS secrets (NSS key log format) to this file. */
  keylogFile?: string
  /**
   * Called after the name is resolved and before the first TCP connect, with the addresses that
   * will be tried: `capture --probe` starts tcpdump here.
   */
  beforeConnect?(addresses: string[], port: number): Promise<void>
}

export async function runProbe(options: ProbeOptions): Promise<ProbeFacts> {
  const start = Date.now()
  const {target, proxy} = options
  const dnsName = proxy ? proxy.url.hostname.replace(/^\[(.*)\]$/, '$1') : target.host
  const connectPort = proxy ? Number(proxy.url.port) : target.port
  const facts: ProbeFacts = {
    kind: 'probe',
    // The URL as reported: a token in its query is a credential (src/secrets.ts).
    target: {...target, url: redactUrl(target.url), path: redactUrl(target.path)},
    startedAt: new Date(start).toISOString(),
    endedAt: '',
    dns: {name: dnsName, literal: isIP(dnsName) !== 0, addresses: []},
    tcp: {startTs: start / 1000, endTs: start / 1000, attempts: [], viaProxy: proxy !== undefined},
    issues: [],
  }
  if (options.keylogFile !== undefined) facts.keylogFile = options.keylogFile
  const authority = formatAuthority(target.host, target.port)
  // Known before the first SYN, so that a proxy that refuses the TCP connection is the one named.
  if (proxy) facts.proxy = {url: redactedProxyUrl(proxy.url), from: proxy.from, basicAuth: hasBasicAuth(proxy.url), authority}
  const finish = (): ProbeFacts => {
    const end = Date.now()
    facts.endedAt = new Date(end).toISOString()
    facts.tcp.endTs = end / 1000
    return facts
  }

  if (!(await resolveName(facts.dns, options.timeoutMs))) return finish()

  await options.beforeConnect?.(facts.dns.addresses.map((a) => a.address), connectPort)

  const connected = await connectTcpPhase(facts, connectPort, options.timeoutMs)
  if (!connected) return finish()
  const closed = new Promise<void>((resolve) => connected.once('close', () => resolve()))
  let keylog: number | undefined

  try {
    if (proxy && facts.proxy && !(await openTunnel(connected, proxy, facts.proxy, options.timeoutMs))) return finish()

    if (options.keylogFile !== undefined) keylog = openSync(options.keylogFile, 'a', 0o600)
    const handshake = await tlsHandshake(connected, options, keylog)
    facts.handshake = handshake.facts
    const {certificates, omitted} = connectionCertificates(options.credentials, handshake.peerChain)
    facts.certificates = certificates
    if (omitted > 0) facts.omittedCertificates = omitted
    const tls = handshake.socket
    if (!tls) return finish()

    const session = await upgradeToWebSocket(tls, target.url, facts, options)
    if (!session) return finish()

    if (!(await pingOnce(session, facts, options.timeoutMs))) return finish()

    if (options.holdMs !== undefined && options.holdMs > 0) {
      facts.session = await hold(session.ws, options.holdMs, options.timeoutMs, session.lastError)
      if (facts.session.error) {
        noteAlert(facts.handshake, session.lastError(), 'ws.session')
        session.ws.terminate()
        return finish()
      }
    }

    await closeSession(session, facts, options.timeoutMs)
    return finish()
  } finally {
    connected.destroy()
    await withTimeout(closed, 1000, 'to the socket close').catch(() => undefined)
    if (keylog !== undefined) closeSync(keylog)
    finish()
  }
}
