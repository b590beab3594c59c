/**
 * ws.upgrade: the client's HTTP GET with Upgrade: websocket was answered 101 Switching Protocols
 * with a correct Sec-WebSocket-Accept (RFC 6455 §4.1, §4.2.2). Observed when the exchange was read
 * (decrypted with a key log, or cleartext on the port); without keys on TLS 1.3, inferred from the
 * sizes and flow of the encrypted records (see protocols/tls/record-sizes.ts for the measured sizes).
 */
import type {ConnectionFacts, UpgradeFlow} from '../model/facts.js'
import type {HttpUpgradeFacts, HttpUpgradeRequest, HttpUpgradeResponse} from '../protocols/http/types.js'
import type {TlsFacts} from '../protocols/tls/types.js'
import type {CheckResult} from '../model/checks.js'
import {describeEnding, endingAfter, formatBytes, isTls13, noTlsReason, skip, tlsFactsOf} from './tls-common.js'
import {REQUEST_RECORD_RANGE, recordBytes} from '../protocols/tls/record-sizes.js'
import {frameSpan, tlsBlocker, upgradeFlowOf, webFactsOf} from './ws-common.js'

const ID = 'ws.upgrade'
const SWITCHING_PROTOCOLS = 101

/**
 * Without keys, a server that answers and then ends the connection with nothing else exchanged
 * reads as a refusal only when the end follows the answer at once: a refusing server closes as
 * soon as its 403 is written (node ws: in the same millisecond, fixtures/wss/refused-403 and the
 * storm of fixtures/fleet/console-relay). An end after this many seconds of silence is a held
 * session that was cut (fixtures/fleet/console-relay: a relay's 1.5 s idle timeout resets it),
 * and says nothing about the upgrade's status (issue 18: such cuts were misread as refusals).
 */
export const REFUSAL_CLOSES_WITHIN_S = 1

export function checkWsUpgrade(facts: ConnectionFacts): CheckResult {
  const tls = tlsFactsOf(facts)
  const blocked = tlsBlocker(facts)
  if (blocked) return skip(ID, blocked)
  const {http} = webFactsOf(facts)
  if (http?.request || http?.notHttpFrom?.client !== undefined) return observed(facts, http, tls)
  if (tls && !tls.notTls) {
    if (tls.decryption?.keys === 'found') return skip(ID, 'the client sent no application data after the TLS handshake')
    if (!isTls13(tls)) return skip(ID, `${tls.versionName ?? 'this TLS version'}'s application data is encrypted and its record sizes are not read`, 'give --keylog to read the upgrade')
    const flow = upgradeFlowOf(facts)
    if (!flow) return skip(ID, 'the client sent no application data after the TLS handshake', 'capture longer, or check why the Defender did not send its upgrade request')
    return inferred(facts, flow)
  }
  return skip(ID, noTlsReason(facts))
}

function observed(facts: ConnectionFacts, http: HttpUpgradeFacts, tls: TlsFacts | undefined): CheckResult {
  const how = tls && !tls.notTls ? ' [decrypted]' : ''
  const request = http.request
  if (!request) {
    // The client's bytes, not the server's: the summary names the client (issue 15).
    const frame = http.notHttpFrom!.client!
    const notHttp = http.issues.find((i) => i.code === 'http.not-http' && i.frame === frame)
    return fail(`the client's application data is not an HTTP request${how}${notHttp ? `: ${notHttp.message}` : ` (frame ${frame})`}`, [frame], 'the connection carries another protocol than WebSocket: check the Defender\'s Console address and port')
  }
  const asked = `${request.method} ${request.path}`
  const requestProblem = upgradeRequestProblem(request)
  if (requestProblem) return fail(`the client's request ${asked} (frame ${request.frame})${how} ${requestProblem}`, [request.frame], 'the client is not a WebSocket client: check what connects to the Console port')
  const response = http.response
  if (!response) {
    const ended = describeEnding(facts, request)
    if (ended.frames.length === 0) {
      return {id: ID, status: 'warn', confidence: 'observed', summary: `${asked} with Upgrade: websocket (frame ${request.frame})${how} got no response before the capture ended (${ended.text})`, evidence: {frames: [request.frame]}, hint: 'capture longer'}
    }
    return fail(`${asked} with Upgrade: websocket (frame ${request.frame})${how} got no response: ${ended.text}`, [request.frame, ...ended.frames], 'the Console (or a proxy in between) dropped the upgrade request: check its logs')
  }
  const status = `${response.status} ${response.reason}`.trim()
  const frames = [request.frame, response.frame]
  const values = {method: request.method, path: request.path, status: response.status, reason: response.reason, accept: response.accept, expectedAccept: response.expectedAccept}
  if (response.status !== SWITCHING_PROTOCOLS) {
    return {...fail(`${asked} with Upgrade: websocket (frame ${request.frame}) was answered ${status} (frame ${response.frame})${how}, not 101 Switching Protocols`, frames, statusHint(response.status)), evidence: {frames, values}}
  }
  const responseProblem = upgradeResponseProblem(response)
  if (responseProblem) return {...fail(`${asked} was answered 101 (frame ${response.frame})${how} but ${responseProblem}`, frames, 'something between the Defender and the Console rewrites the handshake (a proxy), or the server is not a WebSocket server'), evidence: {frames, values}}
  return {
    id: ID,
    status: 'pass',
    confidence: 'observed',
    summary: `${asked} with Upgrade: websocket answered ${status} (frame ${response.frame}), Sec-WebSocket-Accept correct${how}`,
    evidence: {frames, values},
  }
}

/** What makes a request not a WebSocket opening handshake (RFC 6455 §4.1), or undefined. */
function upgradeRequestProblem(request: HttpUpgradeRequest): string | undefined {
  if (request.method !== 'GET') return `is not a GET`
  if (!hasToken(request.upgrade, 'websocket')) return request.upgrade === undefined ? 'has no Upgrade header' : `asks to upgrade to ${JSON.stringify(request.upgrade)}, not websocket`
  if (!hasToken(request.connection, 'upgrade')) return request.connection === undefined ? 'has no Connection header' : `has Connection: ${request.connection}, without the upgrade token`
  if (request.key === undefined) return 'has no Sec-WebSocket-Key'
  return undefined
}

/** What makes a 101 not an acceptance of the WebSocket upgrade (RFC 6455 §4.2.2 step 5, §4.1 client checks), or undefined. */
function upgradeResponseProblem(response: HttpUpgradeResponse): string | undefined {
  if (!hasToken(response.upgrade, 'websocket')) return response.upgrade === undefined ? 'without an Upgrade header' : `switches to ${JSON.stringify(response.upgrade)}, not websocket`
  if (!hasToken(response.connection, 'upgrade')) return response.connection === undefined ? 'without a Connection header' : `with Connection: ${response.connection}, without the upgrade token`
  if (response.accept === undefined) return 'without Sec-WebSocket-Accept'
  if (response.acceptValid === false) return `Sec-WebSocket-Accept is wrong: expected ${response.expectedAccept}, got ${response.accept}`
  return undefined
}

/** Header values compare case-insensitively as comma-separated tokens (RFC 9110 §7.6.1, §7.8). */
function hasToken(value: string | undefined, token: string): boolean {
  return value !== undefined && value.split(',').some((t) => t.trim().toLowerCase() === token)
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return 'the Console refused this Defender: check that the Defender is authorized (its certificate and token) and not revoked'
  if (status === 404) return 'no WebSocket endpoint at that path: check the Console address and that nothing in between rewrites the path'
  if (status === 407) return 'a proxy wants authentication: configure the Defender\'s proxy credentials'
  if (status >= 500) return 'the Console (or a proxy in between) failed: check its logs'
  if (status >= 300 && status < 400) return 'the server redirects: the Defender must connect to the Console directly'
  return 'the server did not accept the WebSocket upgrade'
}

function fail(summary: string, frames: number[], hint: string): CheckResult {
  return {id: ID, status: 'fail', confidence: 'observed', summary, evidence: {frames}, hint}
}

/** TLS 1.3 without keys: judged by the sizes and flow of the encrypted records (analysis/derive.ts, protocols/tls/record-sizes.ts). */
function inferred(facts: ConnectionFacts, flow: UpgradeFlow): CheckResult {
  const {request, answer, clientAfter, serverAfter} = flow
  const values = {
    requestRecordBytes: request.length,
    answerRecords: answer.length,
    answerBytes: recordBytes(answer),
    clientRecordsAfter: clientAfter.length,
    serverRecordsAfter: serverAfter.length,
  }
  const said = `the client's first record after its Finished (frame ${request.frame}) is ${formatBytes(request.length)}`
  if (!flow.requestLooksLikeUpgrade) {
    return {
      id: ID,
      status: 'warn',
      confidence: 'inferred',
      summary: `inferred: ${said}, outside the size of an HTTP upgrade request (${REQUEST_RECORD_RANGE} bytes as a record): the connection may not carry WebSocket`,
      evidence: {frames: [request.frame], values},
      hint: 'give --keylog to read what the client sent',
    }
  }
  const asked = `${said}, the size of an HTTP upgrade request`
  if (answer.length === 0) {
    const ended = describeEnding(facts, request, 'server')
    const status = ended.frames.length === 0 ? 'warn' : 'fail'
    return {
      id: ID,
      status,
      confidence: 'inferred',
      summary: `inferred: ${asked}; the server sent nothing back: ${ended.text}`,
      evidence: {frames: [request.frame, ...ended.frames], values},
      hint: status === 'warn' ? 'capture longer' : 'the Console (or a proxy in between) dropped the upgrade request: give --keylog to read the exchange',
    }
  }
  const answered = `the server answered with ${answer.length} record(s) (${frameSpan(answer)}, ${formatBytes(recordBytes(answer))})`
  const last = answer[answer.length - 1]
  if (clientAfter.length > 0 && serverAfter.length > 0) {
    return {
      id: ID,
      status: 'pass',
      confidence: 'inferred',
      summary:
        `inferred: ${asked}; ${answered}; then both sides went on exchanging records (client ${clientAfter.length}, server ${serverAfter.length} from frame ${Math.min(clientAfter[0].frame, serverAfter[0].frame)}), ` +
        'which a refused upgrade would not allow, so the server switched to WebSocket',
      evidence: {frames: [request.frame, last.frame, clientAfter[0].frame, serverAfter[0].frame], values},
    }
  }
  const ended = describeEnding(facts, last)
  if (ended.frames.length === 0) {
    return {
      id: ID,
      status: 'warn',
      confidence: 'inferred',
      summary: `inferred: ${asked}; ${answered}; the capture ended before the session showed whether the upgrade was accepted`,
      evidence: {frames: [request.frame, last.frame], values},
      hint: 'capture longer, or give --keylog to read the response',
    }
  }
  if (clientAfter.length === 0 && serverAfter.length === 0) {
    const end = endingAfter(facts, last.frame)
    const silence = end === undefined ? 0 : end.ts - last.ts
    if (silence >= REFUSAL_CLOSES_WITHIN_S) {
      return {
        id: ID,
        status: 'warn',
        confidence: 'inferred',
        summary:
          `inferred: ${asked}; ${answered}; then nothing for ${silence.toFixed(1)} s until ${ended.text}: a refused upgrade is closed at once, ` +
          'so this is a held session cut while idle (e.g. a relay or load balancer idle timeout), not a refusal; whether the answer was 101 is encrypted',
        evidence: {frames: [request.frame, last.frame, ...ended.frames], values: {...values, silenceBeforeEndSeconds: round3(silence)}},
        hint: 'give --keylog to read the status; if sessions keep being cut after the same idle time, see channel.stability (an idle timeout shorter than the ping interval)',
      }
    }
    return {
      id: ID,
      status: 'fail',
      confidence: 'inferred',
      summary: `inferred: ${asked}; ${answered} and then ${ended.text}, with no data after it: likely a refused upgrade (e.g. 403 Forbidden)`,
      evidence: {frames: [request.frame, last.frame, ...ended.frames], values},
      hint: 'the Console answered the upgrade request and closed: give --keylog to read its status code',
    }
  }
  const oneSide = clientAfter.length > 0 ? 'only the client' : 'only the server'
  return {
    id: ID,
    status: 'warn',
    confidence: 'inferred',
    summary: `inferred: ${asked}; ${answered}; after it ${oneSide} sent more records before ${ended.text}: cannot tell whether the upgrade was accepted`,
    evidence: {frames: [request.frame, last.frame, ...ended.frames], values},
    hint: 'give --keylog to read the response',
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}
