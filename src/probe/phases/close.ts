/** Phase 8, a clean close (RFC 6455 §7.1.2), so the server and a capture see a normal end. */
import type {ProbeFacts} from '../../model/probe.js'
import {failureOf, withTimeout} from '../failure.js'
import type {OpenSession} from './upgrade.js'

const CLOSE_REASON = 'defender-check probe done'

/** Sends a 1000 close and records the code the server answered; an unanswered close is a warning issue. */
export async function closeSession(session: OpenSession, facts: ProbeFacts, timeoutMs: number): Promise<void> {
  const {ws} = session
  const closing = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  ws.close(1000, CLOSE_REASON)
  try {
    facts.closeCode = await withTimeout(closing, timeoutMs, 'to the WebSocket close', () => ws.terminate())
  } catch (error) {
    facts.issues.push({code: 'probe.close', severity: 'warn', message: `the server did not answer the close handshake: ${failureOf(error).message}`})
  }
}
