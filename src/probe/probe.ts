/**
 * The active probe: what a Defender does to reach its Console, one phase at a time, each with a
 * deadline — resolve the name, connect TCP (optionally through an HTTP proxy's CONNECT), TLS with
 * node:tls (the Defender's client certificate when given), the WebSocket upgrade with ws over that
 * TLS socket, a ping, optionally a held session, and a clean close. Every phase records what it
 * saw in ProbeFacts; a failed phase ends the probe and names its cause. The checks are built from
 * the facts afterwards (checks.ts).
 *
 * Certificates are judged after the handshake rather than by OpenSSL's callback (node:tls does
 * the same with rejectUnauthorized): the probe keeps the certificate it was shown, so a rejected
 * one is reported by subject and issuer, and --insecure can go on past it.
 */
import {lookup} from 'node:dns/promises'
import {X509Certificate} from 'node:crypto'
import {closeSync, openSync, writeSync} from 'node:fs'
import {connect as netConnect, isIP, type Socket} from 'node:net'
import {checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket} from 'node:tls'
import WebSocket from 'ws'
import type {ClientCredentials} from './credentials.js'
import {summarizeX509} from './credentials.js'
import {alertOf, failureOf, formatSeconds, PhaseTimeout, withTimeout} from './failure.js'
import {reportableHeaderValue, redactUrl} from '../secrets.js'
import {hasBasicAuth, redactedProxyUrl, sendConnect, type ProxyConfig} from './proxy.js'
import type {HandshakeFacts, ProbeFacts, ProbeTarget, ReceivedAlert, SessionFacts} from '../model/probe.js'

export interface ProbeOptions {
  target: ProbeTarget
  credentials: ClientCredentials
  minTls: '1.2' | '1.3'
  /** Certificate failures become warnings and the probe goes on. */
  insecure: boolean
  /** Deadline of each phase (ms). */
  timeoutMs: number
  /** Extra headers on the upgrade request. */
  headers?: Record<string, string>
  subprotocols?: string[]
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

/** Pings during --hold: often enough to notice a dead session, never more than every 5 s. */
const HOLD_PING_INTERVAL_MS = 5000
const CLOSE_REASON = 'defender-check probe done'

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

  // 1. Name resolution (getaddrinfo, like the Defender's resolver: /etc/hosts included).
  if (facts.dns.literal) {
    facts.dns.addresses = [{address: dnsName, family: isIP(dnsName) as 4 | 6}]
  } else {
    const t0 = performance.now()
    try {
      const found = await withTimeout(lookup(dnsName, {all: true, verbatim: true}), options.timeoutMs, `from the resolver for ${dnsName}`)
      facts.dns.addresses = found.map((a) => ({address: a.address, family: a.family as 4 | 6}))
      facts.dns.ms = elapsed(t0)
    } catch (error) {
      facts.dns.ms = elapsed(t0)
      facts.dns.error = failureOf(error)
      return finish()
    }
  }

  await options.beforeConnect?.(facts.dns.addresses.map((a) => a.address), connectPort)

  // 2. TCP: the addresses in resolver order, sharing one deadline, as Go's dialer does.
  const tcpStart = performance.now()
  let socket: Socket | undefined
  for (const {address} of facts.dns.addresses) {
    const left = options.timeoutMs - (performance.now() - tcpStart)
    const t0 = performance.now()
    try {
      socket = await connectTcp(address, connectPort, Math.max(1, left))
      facts.tcp.attempts.push({address, ms: elapsed(t0)})
      break
    } catch (error) {
      facts.tcp.attempts.push({address, ms: elapsed(t0), error: failureOf(error)})
      if (error instanceof PhaseTimeout) break
    }
  }
  facts.tcp.ms = elapsed(tcpStart)
  if (!socket) {
    facts.tcp.error = facts.tcp.attempts[facts.tcp.attempts.length - 1]?.error ?? {code: 'ENOTFOUND', message: `no address for ${dnsName}`}
    return finish()
  }
  facts.tcp.local = {ip: socket.localAddress!, port: socket.localPort!}
  facts.tcp.remote = {ip: socket.remoteAddress!, port: socket.remotePort!}
  const connected = socket
  const closed = new Promise<void>((resolve) => connected.once('close', () => resolve()))
  let keylog: number | undefined

  try {
    // 3. The proxy's tunnel.
    if (proxy && facts.proxy) {
      const t0 = performance.now()
      try {
        const answer = await withTimeout(sendConnect(connected, proxy.url, authority), options.timeoutMs, `to CONNECT ${authority} from the proxy`)
        facts.proxy.ms = elapsed(t0)
        facts.proxy.status = answer.status
        facts.proxy.statusText = answer.statusText
        if (answer.status < 200 || answer.status > 299) {
          facts.proxy.error = {code: `HTTP_${answer.status}`, message: `the proxy answered ${answer.status} ${answer.statusText}`.trim()}
          return finish()
        }
      } catch (error) {
        facts.proxy.ms = elapsed(t0)
        facts.proxy.error = failureOf(error)
        return finish()
      }
    }

    // 4. TLS.
    if (options.keylogFile !== undefined) keylog = openSync(options.keylogFile, 'a', 0o600)
    const handshake = await tlsHandshake(connected, options, keylog)
    facts.handshake = handshake.facts
    const tls = handshake.socket
    if (!tls) return finish()

    // 5. The WebSocket upgrade, over the TLS socket the handshake produced.
    const upgradeStart = performance.now()
    const ws = new WebSocket(target.url, options.subprotocols ?? [], {
      createConnection: () => tls,
      headers: options.headers,
      perMessageDeflate: false,
      followRedirects: false,
    })
    facts.upgrade = {path: facts.target.path}
    const upgrade = facts.upgrade
    let lastError: unknown
    ws.on('error', (error) => {
      lastError ??= error
    })
    ws.once('upgrade', (res) => {
      upgrade.status = res.statusCode
      upgrade.statusText = res.statusMessage
      upgrade.headers = headersOf(res.headers)
    })
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('unexpected-response', (req, res) => {
        upgrade.status = res.statusCode
        upgrade.statusText = res.statusMessage
        upgrade.headers = headersOf(res.headers)
        req.destroy()
        reject(Object.assign(new Error(`the server answered ${res.statusCode} ${res.statusMessage ?? ''} instead of 101 Switching Protocols`.trim()), {code: `HTTP_${res.statusCode}`}))
      })
      ws.once('close', () => reject(lastError ?? new Error('the connection closed before the upgrade was answered')))
    })
    try {
      await withTimeout(opened, options.timeoutMs, `to the WebSocket upgrade (GET ${facts.target.path})`, () => ws.terminate())
      upgrade.ms = elapsed(upgradeStart)
      upgrade.protocol = ws.protocol
      upgrade.extensions = ws.extensions
    } catch (error) {
      upgrade.ms = elapsed(upgradeStart)
      upgrade.error = failureOf(error)
      noteAlert(facts.handshake, error, 'ws.upgrade')
      ws.terminate()
      return finish()
    }

    // 6. One ping/pong round trip (RFC 6455 §5.5.2-3).
    facts.ping = {}
    try {
      facts.ping.rttMs = await ping(ws, options.timeoutMs)
      facts.ping.ms = facts.ping.rttMs
    } catch (error) {
      facts.ping.error = failureOf(lastError ?? error)
      noteAlert(facts.handshake, lastError ?? error, 'ws.ping')
      ws.terminate()
      return finish()
    }

    // 7. --hold: keep the session, ping it, notice it dying.
    if (options.holdMs !== undefined && options.holdMs > 0) {
      facts.session = await hold(ws, options.holdMs, options.timeoutMs, () => lastError)
      if (facts.session.error) {
        noteAlert(facts.handshake, lastError, 'ws.session')
        ws.terminate()
        return finish()
      }
    }

    // 8. A clean close (RFC 6455 §7.1.2), so the server and a capture see a normal end.
    const closing = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.close(1000, CLOSE_REASON)
    try {
      facts.closeCode = await withTimeout(closing, options.timeoutMs, 'to the WebSocket close', () => ws.terminate())
    } catch (error) {
      facts.issues.push({code: 'probe.close', severity: 'warn', message: `the server did not answer the close handshake: ${failureOf(error).message}`})
    }
    return finish()
  } finally {
    connected.destroy()
    await withTimeout(closed, 1000, 'to the socket close').catch(() => undefined)
    if (keylog !== undefined) closeSync(keylog)
    finish()
  }
}

function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000
}

function formatAuthority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

function connectTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = netConnect({host: address, port})
  const connected = new Promise<Socket>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
  return withTimeout(connected, timeoutMs, `to the SYN sent to ${formatAuthority(address, port)}`, () => socket.destroy())
}

interface HandshakeOutcome {
  facts: HandshakeFacts
  /** The socket to go on with; undefined when the handshake failed or the certificate was refused. */
  socket?: TLSSocket
}

async function tlsHandshake(socket: Socket, options: ProbeOptions, keylog: number | undefined): Promise<HandshakeOutcome> {
  const {target, credentials} = options
  const facts: HandshakeFacts = {
    minVersion: options.minTls,
    trust: credentials.ca?.file ?? "node's built-in root CAs",
    insecure: options.insecure,
  }
  if (target.servername !== undefined) facts.servername = target.servername
  if (credentials.client) facts.clientCertificate = credentials.client.summary
  const tlsOptions: ConnectionOptions = {
    socket,
    minVersion: options.minTls === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    // Judged below, after the handshake, so the certificate can be reported (see the file comment).
    rejectUnauthorized: false,
    // node checks the name inside the handshake too, and over an existing socket without `host`
    // it checks "localhost", folding a name mismatch into tls.authorized. The chain (authorized)
    // and the name (checked below against the target) are two separate questions.
    checkServerIdentity: () => undefined,
  }
  // RFC 6066 §3: SNI carries host names only, never an IP literal; an IP target is still
  // verified, against the certificate's IP SANs (RFC 6125 §6.2.1, as curl and `openssl s_client
  // -verify_ip` do).
  if (target.servername !== undefined && isIP(target.servername) === 0) tlsOptions.servername = target.servername
  if (credentials.ca) tlsOptions.ca = credentials.ca.pem
  if (credentials.client) {
    tlsOptions.cert = credentials.client.cert
    tlsOptions.key = credentials.client.key
  }
  const t0 = performance.now()
  const tls = tlsConnect(tlsOptions)
  if (keylog !== undefined) tls.on('keylog', (line: Buffer) => writeSync(keylog, line))
  const secure = new Promise<void>((resolve, reject) => {
    tls.once('secureConnect', () => {
      tls.off('error', reject)
      resolve()
    })
    tls.once('error', reject)
  })
  try {
    await withTimeout(secure, options.timeoutMs, 'to the TLS ClientHello', () => tls.destroy())
  } catch (error) {
    facts.ms = elapsed(t0)
    facts.error = failureOf(error)
    noteAlert(facts, error, 'tls')
    tls.destroy()
    return {facts}
  }
  facts.ms = elapsed(t0)
  // Errors after the handshake (a TLS 1.3 server's alert about the client certificate) surface
  // through whoever reads next (ws); this keeps an unread one from being unhandled.
  tls.on('error', () => undefined)
  facts.version = tls.getProtocol() ?? undefined
  const cipher = tls.getCipher()
  facts.cipher = cipher.standardName ?? cipher.name
  if (tls.alpnProtocol) facts.alpn = tls.alpnProtocol
  // OpenSSL fills the shared signature algorithms on the client only from a CertificateRequest's
  // signature_algorithms (RFC 8446 §4.3.2), so a non-empty list means the server asked.
  facts.clientCertificateRequested = tls.getSharedSigalgs().length > 0
  // One getPeerCertificate call and nothing before it: after getPeerX509Certificate() (or a first
  // call) node 20 hands back a certificate without its fields, which checkServerIdentity rejects.
  const presented = tls.getPeerCertificate(true)
  if (presented.raw) {
    facts.peerCertificate = summarizeX509(new X509Certificate(presented.raw))
    facts.peerChain = chainSubjects(presented)
    facts.chainVerified = tls.authorized
    if (!tls.authorized) facts.chainError = String(tls.authorizationError)
    const nameError = checkServerIdentity(target.servername ?? target.host, presented)
    if (nameError) facts.nameError = nameError.message
  } else {
    facts.chainVerified = false
    facts.chainError = 'NO_PEER_CERTIFICATE'
  }
  const refused = facts.chainVerified !== true || facts.nameError !== undefined
  if (refused && !options.insecure) {
    facts.error = {code: facts.chainError ?? 'ERR_TLS_CERT_ALTNAME_INVALID', message: facts.chainError ? `certificate rejected: ${facts.chainError}` : `certificate rejected: ${facts.nameError}`}
    tls.destroy()
    return {facts}
  }
  return {facts, socket: tls}
}

/** Subjects of the presented chain, leaf first (node links it through issuerCertificate; a self-signed root points at itself). */
function chainSubjects(leaf: PeerCertificate & {issuerCertificate?: PeerCertificate}): string[] {
  const subjects: string[] = []
  const seen = new Set<string>()
  let current: (PeerCertificate & {issuerCertificate?: PeerCertificate}) | undefined = leaf
  while (current && current.fingerprint256 && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256)
    subjects.push(Object.entries(current.subject ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', '))
    current = current.issuerCertificate
  }
  return subjects
}

/** Records the TLS alert an error carries, once: the first alert is the cause. */
function noteAlert(handshake: HandshakeFacts | undefined, error: unknown, during: ReceivedAlert['during']): void {
  const alert = alertOf(error)
  if (handshake && alert && !handshake.alert) handshake.alert = {...alert, during}
}

/** The response's headers as reported: Set-Cookie and other credentials only as their size (src/secrets.ts). */
function headersOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = reportableHeaderValue(name, Array.isArray(value) ? value.join(', ') : value)
  return out
}

/** One ping, resolved with the round-trip time when its pong (same payload) comes back. */
function ping(ws: WebSocket, timeoutMs: number): Promise<number> {
  const payload = Buffer.from(`defender-check ${process.hrtime.bigint()}`)
  const t0 = performance.now()
  const answered = new Promise<number>((resolve, reject) => {
    const onPong = (data: Buffer) => {
      if (!data.equals(payload)) return
      cleanup()
      resolve(elapsed(t0))
    }
    const onClose = (code: number) => {
      cleanup()
      reject(Object.assign(new Error(`the WebSocket closed (code ${code}) before the pong`), {code: 'WS_CLOSED'}))
    }
    const cleanup = () => {
      ws.off('pong', onPong)
      ws.off('close', onClose)
    }
    ws.on('pong', onPong)
    ws.on('close', onClose)
    ws.ping(payload)
  })
  return withTimeout(answered, timeoutMs, 'to the WebSocket ping (no pong)')
}

async function hold(ws: WebSocket, holdMs: number, timeoutMs: number, lastError: () => unknown): Promise<SessionFacts> {
  const session: SessionFacts = {holdMs, pings: 0, pongs: 0}
  const t0 = performance.now()
  let closeCode: number | undefined
  let closeReason = ''
  ws.once('close', (code, reason) => {
    closeCode = code
    closeReason = reason.toString('utf8')
  })
  const interval = Math.min(HOLD_PING_INTERVAL_MS, Math.max(100, Math.floor(holdMs / 3)))
  while (performance.now() - t0 < holdMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, holdMs - (performance.now() - t0)))))
    if (closeCode !== undefined) break
    session.pings++
    try {
      const rtt = await ping(ws, Math.min(timeoutMs, holdMs))
      session.pongs++
      session.maxRttMs = Math.max(session.maxRttMs ?? 0, rtt)
    } catch (error) {
      session.error = failureOf(lastError() ?? error)
      break
    }
  }
  session.ms = elapsed(t0)
  if (closeCode !== undefined) {
    session.closeCode = closeCode
    session.closeReason = closeReason
    session.error ??= {code: 'WS_CLOSED', message: `the server closed the session after ${formatSeconds(Math.round(session.ms))} with code ${closeCode}${closeReason ? ` (${closeReason})` : ''}`}
  }
  return session
}
