/** Phase 6, one ping/pong round trip (RFC 6455 §5.5.2-3). */
import type WebSocket from 'ws'
import type {ProbeFacts} from '../../model/probe.js'
import {failureOf, withTimeout} from '../failure.js'
import {elapsed, noteAlert} from './common.js'
import type {OpenSession} from './upgrade.js'

/** True when the pong came back (`ping.rttMs`); otherwise `ping.error` says why and the session is ended. */
export async function pingOnce(session: OpenSession, facts: ProbeFacts, timeoutMs: number): Promise<boolean> {
  facts.ping = {}
  try {
    facts.ping.rttMs = await ping(session.ws, timeoutMs)
    facts.ping.ms = facts.ping.rttMs
    return true
  } catch (error) {
    facts.ping.error = failureOf(session.lastError() ?? error)
    noteAlert(facts.handshake, session.lastError() ?? error, 'ws.ping')
    session.ws.terminate()
    return false
  }
}

/** One ping, resolved with the round-trip time when its pong (same payload) comes back. */
export function ping(ws: WebSocket, timeoutMs: number): Promise<number> {
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
