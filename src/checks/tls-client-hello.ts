/**
 * tls.client-hello: the client's ClientHello was seen and offers TLS 1.3 in supported_versions
 * (RFC 8446 §4.2.1); one offering up to TLS 1.2 is judged by the version policy (tls-version.ts):
 * warn by default, pass under --min-tls 1.2, fail under --min-tls 1.3.
 */
import {maxOf} from '../lists.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {ClientHelloInfo} from '../protocols/tls/types.js'
import {TLS_1_2} from '../protocols/tls/iana/versions.js'
import {HS_CLIENT_HELLO} from '../protocols/tls/iana/handshake-types.js'
import type {CheckResult} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import {noTlsReason, skip, tlsFactsOf, versionName} from './tls-common.js'
import {judgeVersion} from './tls-version.js'

const ID = 'tls.client-hello'

export function checkTlsClientHello(facts: ConnectionFacts, policy: Policy): CheckResult {
  const tls = tlsFactsOf(facts)
  if (tls?.notTls) {
    const {direction, frame, firstBytes} = tls.notTls
    const who = direction === 'c2s' ? 'client' : 'server'
    return {
      id: ID,
      status: 'fail',
      confidence: 'observed',
      summary: `the connection does not carry TLS: the ${who} sent ${describeBytes(firstBytes)} (frame ${frame})`,
      evidence: {frames: [frame], values: {from: who, firstBytes}},
      hint:
        direction === 'c2s'
          ? `the client speaks ${/HTTP/.test(describeBytes(firstBytes)) ? 'plaintext HTTP' : 'something other than TLS'} to port ${facts.server.port}: the Defender must connect with wss:// (TLS)`
          : `the server on port ${facts.server.port} is not a TLS listener: check that the Console (not another service) listens there`,
    }
  }
  const hellos = tls?.clientHellos ?? []
  if (hellos.length === 0) return malformedHellos(facts) ?? skip(ID, noTlsReason(facts))
  const tls13 = hellos.find((hello) => hello.offersTls13)
  const hello = tls13 ?? hellos[0]
  const values = helloValues(hello)
  if (tls13) {
    return {id: ID, status: 'pass', confidence: 'observed', summary: `ClientHello offers TLS 1.3${sniText(hello)}`, evidence: {frames: [hello.frame], values}}
  }
  const highest = highestOffered(hello)
  const judged = judgeVersion(highest, policy)
  if (judged.status === 'pass') {
    return {
      id: ID,
      status: 'pass',
      confidence: 'observed',
      summary: `ClientHello offers up to ${versionName(highest)}, not TLS 1.3; accepted by --min-tls 1.2${sniText(hello)}`,
      evidence: {frames: [hello.frame], values},
    }
  }
  return {
    id: ID,
    status: judged.status,
    confidence: 'observed',
    summary: `ClientHello offers only up to ${versionName(highest)} (no TLS 1.3 in supported_versions)${sniText(hello)}`,
    evidence: {frames: hellos.map((h) => h.frame), values},
    hint:
      highest >= TLS_1_2
        ? `the client does not offer TLS 1.3: update the Defender (or the proxy that originates TLS); ${judged.status === 'warn' ? 'if the deployment accepts TLS 1.2, --min-tls 1.2 accepts it' : 'if the deployment accepts TLS 1.2, run with --min-tls 1.2'}`
        : `${versionName(highest)} is obsolete and refused by the Console: update the client`,
  }
}

/**
 * The client sent ClientHello messages (handshake type 1, RFC 8446 §4.1.2) and none could be
 * read: that is not "no TLS handshake". When a retransmission in the client's direction carried
 * different bytes for the same sequence numbers, the capture cannot tell which copy the server
 * got: the check skips with that reason and the connection's verdict is inconclusive
 * (checks/index.ts). Otherwise the ClientHello on the wire is malformed: fail.
 */
function malformedHellos(facts: ConnectionFacts): CheckResult | undefined {
  const sent = facts.tls?.handshakeMessages.filter((m) => m.type === HS_CLIENT_HELLO && m.direction === 'c2s') ?? []
  if (sent.length === 0) return undefined
  const frames = [...new Set(sent.map((m) => m.frame))]
  const problem = facts.issues.find((issue) => issue.code === 'tls.malformed-handshake' && issue.message.includes('client_hello'))
  const why = problem === undefined ? '' : `: ${problem.message.replace(/^from the client: /, '')}`
  const count = sent.length === 1 ? 'the ClientHello' : `all ${sent.length} ClientHellos`
  const conflict = facts.issues.find((issue) => issue.code === 'tcp.overlap-mismatch' && issue.message.startsWith('client'))
  if (conflict !== undefined) {
    return {
      id: ID,
      status: 'skip',
      confidence: 'observed',
      summary: `${count} from the client could not be read${why}, and a retransmission from the client carried different bytes for the same data (frame ${conflict.frame}): which copy the server received is unknown`,
      evidence: {frames: [...frames, ...(conflict.frame === undefined ? [] : [conflict.frame])], values: {clientHellos: sent.length, overlapMismatchFrame: conflict.frame ?? frames[0]}},
    }
  }
  return {
    id: ID,
    status: 'fail',
    confidence: 'observed',
    summary: `${count} from the client ${sent.length === 1 ? 'is' : 'are'} malformed${why} (frame ${frames[0]})`,
    evidence: {frames, values: {clientHellos: sent.length}},
    hint: 'the bytes on the wire are not a valid ClientHello: something between the Defender and the Console rewrites them (a middlebox or a broken proxy), or the client is not a TLS client',
  }
}

function helloValues(hello: ClientHelloInfo): Record<string, unknown> {
  const values: Record<string, unknown> = {
    offersTls13: hello.offersTls13,
    highestVersion: versionName(highestOffered(hello)),
    cipherSuites: hello.cipherSuites.length,
    ja4: hello.ja4,
  }
  if (hello.sni !== undefined) values.sni = hello.sni
  if (hello.supportedVersions) values.supportedVersions = hello.supportedVersions.filter((v) => !isGrease(v)).map(versionName)
  if (hello.alpn) values.alpn = hello.alpn
  return values
}

/** The highest version offered: supported_versions when present (RFC 8446 §4.2.1), else legacy_version. */
function highestOffered(hello: ClientHelloInfo): number {
  const offered = hello.supportedVersions?.filter((v) => !isGrease(v)) ?? []
  return offered.length > 0 ? maxOf(offered) : hello.legacyVersion
}

/** GREASE values are 0x?A?A (RFC 8701 §2). */
function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 12 === ((value >> 4) & 0x0f)
}

function sniText(hello: ClientHelloInfo): string {
  return hello.sni === undefined ? ' (no SNI)' : ` (SNI ${hello.sni})`
}

/** Names what non-TLS bytes look like: an HTTP request line, an SSH banner, text, or hex. */
function describeBytes(hex: string): string {
  const bytes = Buffer.from(hex, 'hex')
  const text = bytes.toString('latin1')
  const firstLine = text.split(/\r?\n/, 1)[0]
  if (/^[A-Z]+ \S+ HTTP\/\d/.test(firstLine)) return `a plaintext HTTP request "${firstLine}"`
  if (/^HTTP\/\d/.test(firstLine)) return `a plaintext HTTP response "${firstLine}"`
  if (firstLine.startsWith('SSH-')) return `an SSH banner "${firstLine}"`
  if (firstLine.length >= 4 && /^[\x20-\x7e]+$/.test(firstLine)) return `text "${firstLine}"`
  return `bytes ${hex.slice(0, 16).replace(/(..)/g, '$1 ').trim()} (not a TLS record header)`
}
