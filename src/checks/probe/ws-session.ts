/** ws.session as the probe judges it: with --hold: the session stayed up and its pings were answered. */
import type {CheckResult} from '../../model/checks.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatMs} from '../../model/format.js'
import {result, cause} from './common.js'

export function probeWsSession(facts: ProbeFacts): CheckResult {
  const session = facts.session!
  const values = {holdMs: session.holdMs, pings: session.pings, pongs: session.pongs, maxRttMs: session.maxRttMs, closeCode: session.closeCode, closeReason: session.closeReason}
  const pings = `${session.pongs} of ${session.pings} pings answered${session.maxRttMs !== undefined ? ` (slowest ${formatMs(session.maxRttMs)})` : ''}`
  if (session.error) return result('ws.session', 'fail', `the session did not stay up for ${Math.round(session.holdMs / 1000)} s: ${cause(session.error)}; ${pings}`, values, 'something closes idle or long-lived connections (a proxy or load balancer idle timeout), or the Console drops the session')
  return result('ws.session', 'pass', `held ${Math.round(session.holdMs / 1000)} s: ${pings}`, values)
}
