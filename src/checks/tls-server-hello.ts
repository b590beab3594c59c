/**
 * tls.server-hello: the server answered the ClientHello with a ServerHello (a HelloRetryRequest,
 * RFC 8446 §4.1.4, is noted); a fail says what happened instead.
 */
import {countOf} from '../lists.js'
import type {ConnectionFacts} from '../model/facts.js'
import {CIPHER_SUITES} from '../protocols/tls/iana/cipher-suites.js'
import {NAMED_GROUPS} from '../protocols/tls/iana/named-groups.js'
import {nameOf} from '../protocols/tls/iana/table.js'
import type {CheckResult} from '../model/checks.js'
import {describeEnding, endingAfter, noTlsReason, skip, tlsFactsOf, versionName} from './tls-common.js'

const ID = 'tls.server-hello'

export function checkTlsServerHello(facts: ConnectionFacts): CheckResult {
  const tls = tlsFactsOf(facts)
  const hellos = tls?.clientHellos ?? []
  if (!tls || hellos.length === 0) return skip(ID, tls?.notTls ? 'the connection does not carry TLS (see tls.client-hello)' : noTlsReason(facts))
  const hrr = tls.helloRetryRequest
  const hrrNote = hrr ? `after a HelloRetryRequest (frame ${hrr.frame}) asking for ${hrr.keyShareGroup === undefined ? 'another ClientHello' : `key share ${nameOf(NAMED_GROUPS, hrr.keyShareGroup)}`}` : undefined
  const serverHello = tls.serverHello
  if (serverHello) {
    const values: Record<string, unknown> = {
      version: versionName(serverHello.version),
      cipherSuite: nameOf(CIPHER_SUITES, serverHello.cipherSuite),
      helloRetryRequest: hrr !== undefined,
    }
    if (serverHello.keyShareGroup !== undefined) values.keyShareGroup = nameOf(NAMED_GROUPS, serverHello.keyShareGroup)
    if (serverHello.alpn !== undefined) values.alpn = serverHello.alpn
    if (hrr?.keyShareGroup !== undefined) values.retryGroup = nameOf(NAMED_GROUPS, hrr.keyShareGroup)
    return {
      id: ID,
      status: 'pass',
      confidence: 'observed',
      summary: `ServerHello: ${versionName(serverHello.version)}, ${nameOf(CIPHER_SUITES, serverHello.cipherSuite)}${hrrNote ? `, ${hrrNote}` : ''}`,
      evidence: {frames: [...(hrr ? [hrr.frame] : []), serverHello.frame], values},
    }
  }
  const last = hellos[hellos.length - 1]
  const ending = endingAfter(facts, last.frame)
  const described = describeEnding(facts, last)
  return {
    id: ID,
    status: 'fail',
    confidence: 'observed',
    summary: `no ServerHello answered the ClientHello (frame ${last.frame})${hrrNote ? ` sent ${hrrNote}` : ''}: ${described.text}`,
    evidence: {frames: [last.frame, ...described.frames], values: {clientHellos: countOf(tls, 'clientHellos', hellos), helloRetryRequest: hrr !== undefined}},
    hint: !ending
      ? 'the server did not answer the ClientHello: something between drops TLS (a firewall or proxy), or the capture stopped too early'
      : ending.what.includes('alert')
        ? `the ${ending.from} refused the handshake with ${ending.what}: usually no common TLS version or cipher suite (see tls.client-hello, --min-tls)`
        : ending.from === 'server'
          ? `the server (or a middlebox in front of it) ended the connection on the ClientHello: a TLS-inspecting firewall, an SNI it rejects, or a listener that is not TLS`
          : 'the client gave up before the server answered',
  }
}
