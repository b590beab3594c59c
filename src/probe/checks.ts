/**
 * The probe's checks: ProbeFacts in, CheckResults out, with the ids analyze uses where they
 * apply (tcp.syn-ack for the connect, tls.*, ws.upgrade) plus dns.resolve, proxy.connect, ws.ping
 * and, with --hold, ws.session. The probe is the client, so what it reports it read itself:
 * every result is `observed`. Phases after a failed one are skipped and say which one failed.
 * Evidence carries no frames (nothing was captured), only values: timings and what was seen.
 */
import type {CheckId, CheckResult} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import {formatEndpoint, formatMs} from '../format.js'
import {isIP} from 'node:net'
import {describeVersionPolicy, judgeVersion} from '../checks/tls-version.js'
import {SAAS_NO_CLIENT_CERTIFICATE} from '../checks/tls-client-certificate.js'
import type {HandshakeFacts, ProbeFacts, ProbeFailure} from '../model/probe.js'

/** Alerts a server sends about the client's certificate (RFC 8446 §6.2). */
const CLIENT_CERTIFICATE_ALERTS = new Set([40, 42, 43, 44, 45, 46, 48, 49, 116])

/** What a server's alert usually means for a Defender (the probe plays the Defender). */
const ALERT_HINTS: Record<number, string> = {
  40: 'handshake_failure: no common cipher suite or group, or the server refused the client certificate',
  42: 'bad_certificate: the Console rejected the client certificate; a load balancer terminating TLS in front of the Console rejects the Defender\'s certificate this way',
  45: 'certificate_expired: the client certificate has expired: renew the Defender\'s certificates',
  48: 'unknown_ca: the server does not trust the issuer of the client certificate: it is not the Console that issued it, or a proxy terminates TLS',
  70: 'protocol_version: the server does not accept the TLS versions the probe offers (see --min-tls)',
  112: 'unrecognized_name: the server does not know the SNI name: use the Console\'s name (--servername)',
  116: 'certificate_required: the Console requires the Defender\'s client certificate: give --defender-certs /var/lib/twistlock/certificates (or --cert/--key)',
}

/** The hint for a server's alert; under the SaaS profile none names the self-hosted certificate directory. */
function alertHint(description: number, policy: Policy): string | undefined {
  if (policy.saas === true && description === 116) return 'certificate_required: the server asks for a client certificate, which a SaaS Console does not (it authenticates Defenders with a token): check that this address is the SaaS Console and not a proxy or a self-hosted Console'
  return ALERT_HINTS[description]
}

const NOT_ASKED_HINT = 'self-hosted Consoles require the Defender\'s certificate (mTLS); a server that does not ask is likely a load balancer or proxy terminating TLS in front of the Console'
const CLIENT_CERT_HINT = 'give the probe the Defender\'s certificate: --defender-certs /var/lib/twistlock/certificates, or --cert, --key and --passphrase'

export function probeChecks(facts: ProbeFacts, policy: Policy): CheckResult[] {
  const results: CheckResult[] = [dnsResolve(facts), tcpConnect(facts)]
  if (facts.proxy) results.push(proxyConnect(facts))
  results.push(tlsVersion(facts, policy), tlsCertificate(facts), tlsClientCertificate(facts, policy), tlsFinished(facts, policy), tlsAlerts(facts, policy), wsUpgrade(facts), wsPing(facts))
  if (facts.session) results.push(wsSession(facts))
  return results
}

function result(id: CheckId, status: CheckResult['status'], summary: string, values?: Record<string, unknown>, hint?: string): CheckResult {
  const check: CheckResult = {id, status, confidence: 'observed', summary, evidence: {frames: []}}
  if (values !== undefined) check.evidence.values = values
  if (hint !== undefined) check.hint = hint
  return check
}

function cause(failure: ProbeFailure): string {
  return `${failure.code}: ${failure.message}`
}

/** Why a later check was not run: the first phase that failed. */
function notAttempted(id: CheckId, facts: ProbeFacts): CheckResult {
  return result(id, 'skip', `not attempted: ${failedPhase(facts)}`)
}

function failedPhase(facts: ProbeFacts): string {
  if (facts.dns.error) return 'the name did not resolve (see dns.resolve)'
  if (facts.tcp.error) return 'the TCP connection failed (see tcp.syn-ack)'
  if (facts.proxy?.error) return 'the proxy refused the tunnel (see proxy.connect)'
  const hs = facts.handshake
  if (hs?.error && hs.peerCertificate && (hs.chainVerified !== true || hs.nameError)) return 'the server certificate was rejected (see tls.certificate)'
  if (hs?.alert) return `the server ended the connection with TLS alert ${hs.alert.name} (see tls.alerts)`
  if (hs?.error) return 'the TLS handshake failed (see tls.finished)'
  if (facts.upgrade?.error) return 'the WebSocket upgrade failed (see ws.upgrade)'
  if (facts.ping?.error) return 'the ping was not answered (see ws.ping)'
  return 'an earlier phase failed'
}

function dnsResolve(facts: ProbeFacts): CheckResult {
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

function tcpConnect(facts: ProbeFacts): CheckResult {
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

function proxyConnect(facts: ProbeFacts): CheckResult {
  const proxy = facts.proxy!
  if (facts.tcp.error || facts.dns.error) return notAttempted('proxy.connect', facts)
  const via = `proxy ${proxy.url} (from ${proxy.from === 'flag' ? '--proxy' : 'HTTPS_PROXY'}${proxy.basicAuth ? ', basic auth' : ''})`
  const values = {proxy: proxy.url, authority: proxy.authority, status: proxy.status, ms: proxy.ms}
  if (proxy.status !== undefined && proxy.status >= 200 && proxy.status <= 299) {
    return result('proxy.connect', 'pass', `${via} opened a tunnel to ${proxy.authority}: ${proxy.status} ${proxy.statusText ?? ''} in ${formatMs(proxy.ms ?? 0)}`.replace(/ {2,}/g, ' '), values)
  }
  if (proxy.status !== undefined) {
    const hint =
      proxy.status === 407
        ? proxy.basicAuth
          ? 'the proxy rejected the credentials in the proxy URL'
          : 'the proxy wants credentials: put them in the proxy URL (http://user:password@proxy:3128)'
        : proxy.status === 403 || proxy.status === 405
          ? `the proxy does not allow CONNECT to ${proxy.authority}: allow the Console's host and port in its ACL (many proxies allow CONNECT to 443 only)`
          : proxy.status === 502 || proxy.status === 503 || proxy.status === 504
            ? `the proxy could not reach ${proxy.authority} itself: check the route from the proxy to the Console`
            : undefined
    return result('proxy.connect', 'fail', `${via} refused CONNECT ${proxy.authority}: ${proxy.status} ${proxy.statusText ?? ''}`.trim(), values, hint)
  }
  return result('proxy.connect', 'fail', `${via} did not answer CONNECT ${proxy.authority}: ${cause(proxy.error!)}`, values)
}

/** The handshake was attempted (DNS, TCP and any proxy went through). */
function handshakeOf(facts: ProbeFacts): HandshakeFacts | undefined {
  return facts.handshake
}

const VERSION_ERRORS = new Set(['ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'])

function tlsVersion(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.version', facts)
  const values = {version: hs.version, cipher: hs.cipher, minVersion: hs.minVersion, ms: hs.ms}
  if (hs.version !== undefined) {
    // node names versions TLSv1.3, TLSv1.2, TLSv1.1, TLSv1 (RFC 8446 wire values 0x0304 … 0x0301).
    const wire = {'TLSv1.3': 0x0304, 'TLSv1.2': 0x0303, 'TLSv1.1': 0x0302, TLSv1: 0x0301}[hs.version] ?? 0x0300
    const judged = judgeVersion(wire, policy)
    return result('tls.version', judged.status, `negotiated ${hs.version.replace('TLSv', 'TLS ')}, ${hs.cipher} (policy: ${describeVersionPolicy(policy)})`, values, judged.hint)
  }
  const error = hs.error!
  if (VERSION_ERRORS.has(error.code) || hs.alert?.description === 70) {
    return result('tls.version', 'fail', `no TLS version both sides accept: ${cause(error)} (the probe offers TLS ${hs.minVersion}${hs.minVersion === '1.2' ? ' and 1.3' : ' only'})`, values, hs.minVersion === '1.3' ? 'the server does not speak TLS 1.3: upgrade the Console, or accept TLS 1.2 with --min-tls 1.2' : 'the server speaks neither TLS 1.2 nor 1.3')
  }
  if (error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || error.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return result('tls.version', 'fail', `the server's answer is not TLS: ${cause(error)}`, values, 'something other than a TLS server listens there (plain HTTP? the wrong port?)')
  }
  return result('tls.version', 'skip', `the handshake did not get as far as the ServerHello's version (see tls.finished)`, values)
}

function tlsCertificate(facts: ProbeFacts): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.certificate', facts)
  const cert = hs.peerCertificate
  if (!cert) return result('tls.certificate', 'skip', 'the handshake ended before the server\'s certificate was verified (see tls.finished)')
  const identity = hs.servername ?? facts.target.host
  const values = {...cert, chain: hs.peerChain, trust: hs.trust, chainVerified: hs.chainVerified, chainError: hs.chainError, nameError: hs.nameError, servername: hs.servername}
  const who = `"${cert.subject}" issued by "${cert.issuer}"`
  // The chain (OpenSSL's verdict against the trust) and the name (checkServerIdentity against the
  // target) are separate problems, each with its own words and hint: a name mismatch is never
  // reported as an untrusted chain, nor an untrusted chain as a wrong name.
  const problems: string[] = []
  const hints: string[] = []
  if (hs.chainVerified !== true) {
    problems.push(`chain not trusted by ${hs.trust}: ${hs.chainError}`)
    hints.push(chainHint(hs.chainError, cert, hs.trust))
  }
  if (hs.nameError) {
    const isAddress = isIP(identity) !== 0
    problems.push(`name mismatch: ${isAddress ? 'IP address' : 'name'} ${identity} is not on the certificate (${hs.nameError})`)
    hints.push(
      isAddress
        ? `the certificate has no IP Address subjectAltName ${identity}: connect by a name it carries (the URL's host, or --servername), or reissue the Console certificate with IP:${identity} in its subjectAltName`
        : 'connect with the name the certificate carries, or give it with --servername',
    )
  }
  const hint = hints.join('; ')
  if (problems.length > 0) {
    if (hs.insecure) return result('tls.certificate', 'warn', `${who}: ${problems.join('; ')}; --insecure: the probe went on anyway`, values, hint)
    return result('tls.certificate', 'fail', `certificate rejected: ${who}: ${problems.join('; ')}`, values, hint)
  }
  return result('tls.certificate', 'pass', `${who}, valid until ${cert.validTo}, chain verified against ${hs.trust}, ${isIP(identity) !== 0 ? 'IP address' : 'name'} ${identity} matches`, values)
}

/** OpenSSL's chain verdicts (X509_V_ERR_*, as node names them) in the words a user acts on. */
function chainHint(code: string | undefined, cert: NonNullable<HandshakeFacts['peerCertificate']>, trust: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `the Console certificate expired on ${cert.validTo}: renew it`
    case 'CERT_NOT_YET_VALID':
      return `the certificate is valid only from ${cert.validFrom}: check the clocks`
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `"${cert.issuer}" is not a CA in ${trust}: give the Console's CA with --ca (or --defender-certs); if that issuer is a proxy's or load balancer's, it is intercepting or terminating TLS in front of the Console`
    default:
      return `the chain does not verify against ${trust} (${code}): check the Console certificate and its CA`
  }
}

function tlsClientCertificate(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.client-certificate', facts)
  if (policy.saas === true) return result('tls.client-certificate', 'skip', SAAS_NO_CLIENT_CERTIFICATE, {requested: hs.clientCertificateRequested})
  const mine = hs.clientCertificate
  const values = {requested: hs.clientCertificateRequested, presented: mine && hs.clientCertificateRequested ? mine : undefined, alert: hs.alert}
  if (hs.clientCertificateRequested === undefined) {
    return result('tls.client-certificate', 'skip', 'the handshake failed before the server\'s flight was read (see tls.finished)', values)
  }
  const rejection = hs.alert && CLIENT_CERTIFICATE_ALERTS.has(hs.alert.description) ? hs.alert : undefined
  if (!hs.clientCertificateRequested) {
    const offered = mine ? ` (the probe had "${mine.subject}" to offer)` : ''
    return result('tls.client-certificate', 'skip', `the server did not ask for a client certificate${offered}`, values, NOT_ASKED_HINT)
  }
  if (!mine) {
    if (rejection) return result('tls.client-certificate', 'fail', `the server asked for a client certificate, the probe had none, and the server answered with alert ${rejection.name} (${rejection.description})`, values, CLIENT_CERT_HINT)
    if (facts.upgrade?.status !== undefined) {
      return result('tls.client-certificate', 'warn', 'the server asked for a client certificate, the probe had none, and the server carried on anyway: client authentication is optional there', values, 'a self-hosted Console requires the Defender\'s certificate: check that this server is really the Console (not a proxy or load balancer terminating TLS)')
    }
    return result('tls.client-certificate', 'skip', 'the server asked for a client certificate and the probe had none; whether the server accepts that was not seen (see the checks below)', values, CLIENT_CERT_HINT)
  }
  const presented = `the probe presented "${mine.subject}" issued by "${mine.issuer}"`
  if (rejection) {
    return result('tls.client-certificate', 'fail', `${presented} and the server rejected it with alert ${rejection.name} (${rejection.description})`, values, alertHint(rejection.description, policy) ?? 'the Console does not accept this certificate: check it was issued by the Console\'s CA and has not expired')
  }
  if (facts.upgrade?.status === undefined && !facts.upgrade?.error) {
    return result('tls.client-certificate', 'skip', `${presented}; the probe stopped before the server's verdict on it was seen`, values)
  }
  return result('tls.client-certificate', 'pass', `${presented} when asked; the server accepted it (it answered after the probe's final flight)`, values)
}

function tlsFinished(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.finished', facts)
  const values = {ms: hs.ms, version: hs.version}
  if (hs.version === undefined) {
    const alert = hs.alert ? ` (alert ${hs.alert.name} from the server)` : ''
    return result('tls.finished', 'fail', `the TLS handshake failed${alert}: ${cause(hs.error!)}`, values, hs.error!.code === 'ETIMEDOUT' ? 'the server accepted the TCP connection but never answered the ClientHello: something in between (or the server) stalls TLS' : hs.error!.code === 'ECONNRESET' ? 'the connection was reset during the handshake: a firewall or proxy that inspects TLS, or a server that refuses the ClientHello' : undefined)
  }
  if (hs.error) return result('tls.finished', 'skip', `the handshake completed in ${formatMs(hs.ms ?? 0)}, then the probe stopped at the certificate (see tls.certificate)`, values)
  if (hs.alert && hs.alert.during !== 'tls') {
    return result('tls.finished', 'fail', `the probe verified the server's Finished, but the server answered the probe's final flight with alert ${hs.alert.name} (${hs.alert.description})`, values, alertHint(hs.alert.description, policy))
  }
  if (facts.upgrade?.status === undefined) {
    return result('tls.finished', 'pass', `the probe verified the server's Finished and sent its own in ${formatMs(hs.ms ?? 0)}; the server has not answered since`, values)
  }
  return result('tls.finished', 'pass', `both Finished messages exchanged in ${formatMs(hs.ms ?? 0)}: the probe verified the server's, and the server answered after the probe's`, values)
}

function tlsAlerts(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.alerts', facts)
  if (hs.alert) {
    const phase = hs.alert.during === 'tls' ? 'during the handshake' : `during ${hs.alert.during}`
    return result('tls.alerts', 'fail', `the server sent fatal alert ${hs.alert.name} (${hs.alert.description}) ${phase}`, {alert: hs.alert}, alertHint(hs.alert.description, policy) ?? `the server aborted the connection with ${hs.alert.name}`)
  }
  if (hs.version === undefined) return result('tls.alerts', 'pass', 'the server sent no alert (the handshake failed otherwise: see tls.finished)')
  return result('tls.alerts', 'pass', 'the server sent no alert')
}

function wsUpgrade(facts: ProbeFacts): CheckResult {
  const upgrade = facts.upgrade
  if (!upgrade) return notAttempted('ws.upgrade', facts)
  const request = `GET ${upgrade.path}`
  const values = {path: upgrade.path, status: upgrade.status, headers: upgrade.headers, protocol: upgrade.protocol || undefined, ms: upgrade.ms}
  if (!upgrade.error) {
    const protocol = upgrade.protocol ? `, subprotocol ${upgrade.protocol}` : ''
    return result('ws.upgrade', 'pass', `${request} answered 101 Switching Protocols in ${formatMs(upgrade.ms ?? 0)}, Sec-WebSocket-Accept correct${protocol}`, values)
  }
  if (facts.handshake?.alert?.during === 'ws.upgrade' && upgrade.status === undefined) {
    return result('ws.upgrade', 'skip', `not answered: the server ended the connection with TLS alert ${facts.handshake.alert.name} before answering ${request} (see tls.alerts)`, values)
  }
  if (upgrade.status !== undefined) {
    const status = `${upgrade.status} ${upgrade.statusText ?? ''}`.trim()
    const location = upgrade.headers?.location ? ` (Location: ${upgrade.headers.location})` : ''
    const hint =
      upgrade.status === 401 || upgrade.status === 403
        ? 'the server refused the upgrade: a load balancer, WAF or reverse proxy that does not pass WebSocket upgrades (or the Defender\'s identity) through to the Console'
        : upgrade.status === 404
          ? 'no WebSocket endpoint at that path: check the URL path'
          : upgrade.status >= 300 && upgrade.status < 400
            ? 'the server redirects: something in front of the Console answers instead of it'
            : upgrade.status === 101
              ? 'the 101 response was not a valid WebSocket handshake'
              : undefined
    const summary = upgrade.status === 101 ? `${request} answered 101, but not with a valid WebSocket handshake: ${upgrade.error.message}` : `${request} answered ${status}${location} instead of 101 Switching Protocols`
    return result('ws.upgrade', 'fail', summary, values, hint)
  }
  return result('ws.upgrade', 'fail', `${request} failed: ${cause(upgrade.error)}`, values, upgrade.error.code === 'ETIMEDOUT' ? 'the TLS session is up but nothing answers the upgrade request: a server that is not the Console, or a stalled proxy' : undefined)
}

function wsPing(facts: ProbeFacts): CheckResult {
  const ping = facts.ping
  if (!ping) return notAttempted('ws.ping', facts)
  if (ping.error) return result('ws.ping', 'fail', `no pong: ${cause(ping.error)}`, {}, 'the WebSocket is open but the peer does not answer pings: a proxy that buffers WebSocket traffic, or a stalled server')
  return result('ws.ping', 'pass', `pong in ${formatMs(ping.rttMs ?? 0)}`, {rttMs: ping.rttMs})
}

function wsSession(facts: ProbeFacts): CheckResult {
  const session = facts.session!
  const values = {holdMs: session.holdMs, pings: session.pings, pongs: session.pongs, maxRttMs: session.maxRttMs, closeCode: session.closeCode, closeReason: session.closeReason}
  const pings = `${session.pongs} of ${session.pings} pings answered${session.maxRttMs !== undefined ? ` (slowest ${formatMs(session.maxRttMs)})` : ''}`
  if (session.error) return result('ws.session', 'fail', `the session did not stay up for ${Math.round(session.holdMs / 1000)} s: ${cause(session.error)}; ${pings}`, values, 'something closes idle or long-lived connections (a proxy or load balancer idle timeout), or the Console drops the session')
  return result('ws.session', 'pass', `held ${Math.round(session.holdMs / 1000)} s: ${pings}`, values)
}
