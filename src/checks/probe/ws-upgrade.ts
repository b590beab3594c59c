/** ws.upgrade as the probe judges it: the upgrade request was answered 101 with a valid Sec-WebSocket-Accept. */
import type {CheckResult} from '../../model/checks.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatMs} from '../../model/format.js'
import {result, cause, notAttempted} from './common.js'

export function probeWsUpgrade(facts: ProbeFacts): CheckResult {
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
