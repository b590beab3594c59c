/** tls.version as the probe judges it: the negotiated TLS version meets the policy. */
import type {CheckResult} from '../../model/checks.js'
import type {Policy} from '../../model/policy.js'
import type {ProbeFacts} from '../../model/probe.js'
import {describeVersionPolicy, judgeVersion} from '../tls-version.js'
import {result, cause, notAttempted, handshakeOf} from './common.js'

const VERSION_ERRORS = new Set(['ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'])

export function probeTlsVersion(facts: ProbeFacts, policy: Policy): CheckResult {
  const hs = handshakeOf(facts)
  if (!hs) return notAttempted('tls.version', facts)
  const values = {version: hs.version, cipher: hs.cipher, minVersion: hs.minVersion, ms: hs.ms}
  if (hs.version !== undefined) {
    // node names versions TLSv1.3, TLSv1.2, TLSv1.1, TLSv1 (RFC 8446 wire values 0x0304 … 0x0301).
    const wire = {'TLSv1.3': 0x0304, 'TLSv1.2': 0x0303, 'TLSv1.1': 0x0302, TLSv1: 0x0301}[hs.version] ?? 0x0300
    const judged = judgeVersion(wire, policy)
    return result('tls.version', judged.status, `negotiated ${hs.version.replace('TLSv', 'TLS ')}, ${hs.cipher} (policy: ${describeVersionPolicy(policy)})`, values, judged.hint)
  }
  const error = hs.error!
  if (VERSION_ERRORS.has(error.code) || hs.alert?.description === 70) {
    return result('tls.version', 'fail', `no TLS version both sides accept: ${cause(error)} (the probe offers TLS ${hs.minVersion}${hs.minVersion === '1.2' ? ' and 1.3' : ' only'})`, values, hs.minVersion === '1.3' ? 'the server does not speak TLS 1.3: upgrade the Console, or accept TLS 1.2 with --min-tls 1.2' : 'the server speaks neither TLS 1.2 nor 1.3')
  }
  if (error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || error.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return result('tls.version', 'fail', `the server's answer is not TLS: ${cause(error)}`, values, 'something other than a TLS server listens there (plain HTTP? the wrong port?)')
  }
  return result('tls.version', 'skip', `the handshake did not get as far as the ServerHello's version (see tls.finished)`, values)
}
