/** tls.alerts as the probe judges it: the server sent no fatal alert. */
import type {CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeFacts} from '../../model/probe.js'
import {alertHint, result, notAttempted, handshakeOf} from './common.js'

export function probeTlsAlerts(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.alerts', facts)
  if (hs.alert) {
    const phase = hs.alert.during === 'tls' ? 'during the handshake' : `during ${hs.alert.during}`
    return result('tls.alerts', 'fail', `the server sent fatal alert ${hs.alert.name} (${hs.alert.description}) ${phase}`, {alert: hs.alert}, alertHint(hs.alert.description, policy) ?? `the server aborted the connection with ${hs.alert.name}`)
  }
  if (hs.version === undefined) return result('tls.alerts', 'pass', 'the server sent no alert (the handshake failed otherwise: see tls.finished)')
  return result('tls.alerts', 'pass', 'the server sent no alert')
}
