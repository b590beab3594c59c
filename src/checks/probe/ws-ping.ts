/** ws.ping as the probe judges it: a WebSocket ping was answered. */
import type {CheckResult} from '../../model/checks.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatMs} from '../../model/format.js'
import {result, cause, notAttempted} from './common.js'

export function probeWsPing(facts: ProbeFacts): CheckResult {
  const ping = facts.ping
  if (!ping) return notAttempted('ws.ping', facts)
  if (ping.error) return result('ws.ping', 'fail', `no pong: ${cause(ping.error)}`, {}, 'the WebSocket is open but the peer does not answer pings: a proxy that buffers WebSocket traffic, or a stalled server')
  return result('ws.ping', 'pass', `pong in ${formatMs(ping.rttMs ?? 0)}`, {rttMs: ping.rttMs})
}
