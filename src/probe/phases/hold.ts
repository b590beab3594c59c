/** Phase 7, --hold: keep the session open, ping it, notice it dying. */
import type WebSocket from 'ws'
import type {SessionFacts} from '../../model/probe.js'
import {failureOf, formatSeconds} from '../failure.js'
import {elapsed} from './common.js'
import {ping} from './ping.js'

/** Pings during --hold: often enough to notice a dead session, never more than every 5 s. */
const HOLD_PING_INTERVAL_MS = 5000

export async function hold(ws: WebSocket, holdMs: number, timeoutMs: number, lastError: () => unknown): Promise<SessionFacts> {
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
