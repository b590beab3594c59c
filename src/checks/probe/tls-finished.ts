/** tls.finished as the probe judges it: both Finished messages were exchanged. */
import type {CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatMs} from '../../model/format.js'
import {alertHint, result, cause, notAttempted, handshakeOf} from './common.js'

export function probeTlsFinished(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.finished', facts)
  const values = {ms: hs.ms, version: hs.version}
  if (hs.version === undefined) {
    const alert = hs.alert ? ` (alert ${hs.alert.name} from the server)` : ''
    return result('tls.finished', 'fail', `the TLS handshake failed${alert}: ${cause(hs.error!)}`, values, hs.error!.code === 'ETIMEDOUT' ? 'the server accepted the TCP connection but never answered the ClientHello: something in between (or the server) stalls TLS' : hs.error!.code === 'ECONNRESET' ? 'the connection was reset during the handshake: a firewall or proxy that inspects TLS, or a server that refuses the ClientHello' : undefined)
  }
  if (hs.error) return result('tls.finished', 'skip', `the handshake completed in ${formatMs(hs.ms ?? 0)}, then the probe stopped at the certificate (see tls.certificate)`, values)
  if (hs.alert && hs.alert.during !== 'tls') {
    return result('tls.finished', 'fail', `the probe verified the server's Finished, but the server answered the probe's final flight with alert ${hs.alert.name} (${hs.alert.description})`, values, alertHint(hs.alert.description, policy))
  }
  if (facts.upgrade?.status === undefined) {
    return result('tls.finished', 'pass', `the probe verified the server's Finished and sent its own in ${formatMs(hs.ms ?? 0)}; the server has not answered since`, values)
  }
  return result('tls.finished', 'pass', `both Finished messages exchanged in ${formatMs(hs.ms ?? 0)}: the probe verified the server's, and the server answered after the probe's`, values)
}
