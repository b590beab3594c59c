/** Phase 5, the WebSocket upgrade (RFC 6455 §4.1) with ws, over the TLS socket the handshake produced. */
import type {IncomingMessage} from 'node:http'
import type {TLSSocket} from 'node:tls'
import WebSocket from 'ws'
import type {ProbeFacts} from '../../model/probe.js'
import {reportableHeaderValue} from '../../secrets.js'
import {failureOf, withTimeout} from '../failure.js'
import {elapsed, noteAlert} from './common.js'

export interface UpgradeOptions {
  /** Deadline of the upgrade (ms). */
  timeoutMs: number
  /** Extra headers on the upgrade request. */
  headers?: Record<string, string>
  subprotocols?: string[]
  /** Largest message accepted (ws maxPayload; ws' default, 100 MiB, when unset): `watch` caps it. */
  maxPayload?: number
}

/** The open WebSocket, and the first error it reported (the later phases name it as their cause). */
export interface OpenSession {
  ws: WebSocket
  lastError(): unknown
}

/** The open session, or undefined when the upgrade failed (`upgrade.error` says why). */
export async function upgradeToWebSocket(tls: TLSSocket, url: string, facts: ProbeFacts, options: UpgradeOptions): Promise<OpenSession | undefined> {
  const upgradeStart = performance.now()
  const requestSentAt = new Date().toISOString()
  const ws = new WebSocket(url, options.subprotocols ?? [], {
    createConnection: () => tls,
    headers: options.headers,
    perMessageDeflate: false,
    followRedirects: false,
    ...(options.maxPayload === undefined ? {} : {maxPayload: options.maxPayload}),
  })
  facts.upgrade = {path: facts.target.path}
  const upgrade = facts.upgrade
  let lastError: unknown
  ws.on('error', (error) => {
    lastError ??= error
  })
  // The Console's clock (RFC 9110 §6.6.1 Date), with this host's clock around the exchange: clock.skew.
  const noteClock = (res: IncomingMessage) => {
    facts.clock = {requestSentAt, responseAt: new Date().toISOString(), status: res.statusCode ?? 0}
    if (typeof res.headers.date === 'string') facts.clock.date = res.headers.date
  }
  ws.once('upgrade', (res) => {
    noteClock(res)
    upgrade.status = res.statusCode
    upgrade.statusText = res.statusMessage
    upgrade.headers = headersOf(res.headers)
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (req, res) => {
      noteClock(res)
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
    return undefined
  }
  return {ws, lastError: () => lastError}
}

/** The response's headers as reported: Set-Cookie and other credentials only as their size (src/secrets.ts). */
function headersOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = reportableHeaderValue(name, Array.isArray(value) ? value.join(', ') : value)
  return out
}
