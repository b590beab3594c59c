/** tls.version: the negotiated version meets the policy (default TLS 1.3; --min-tls 1.2 relaxes). */
import type {ConnectionFacts} from '../analysis/types.js'
import {TLS_1_2, TLS_1_3} from '../dissect/tls/iana/versions.js'
import type {CheckResult, Policy} from './types.js'
import {skip, tlsFactsOf, versionName} from './tls-common.js'

const ID = 'tls.version'

export function checkTlsVersion(facts: ConnectionFacts, policy: Policy): CheckResult {
  const tls = tlsFactsOf(facts)
  const serverHello = tls?.serverHello
  if (!tls || !serverHello) return skip(ID, 'no ServerHello, so no version was negotiated (see tls.server-hello)')
  const version = tls.version ?? serverHello.version
  const minimum = policy.minTls === '1.2' ? TLS_1_2 : TLS_1_3
  const offered13 = tls.clientHellos.some((hello) => hello.offersTls13)
  const values = {negotiated: versionName(version), minimum: `TLS ${policy.minTls}`, clientOfferedTls13: offered13}
  if (version >= minimum) {
    return {id: ID, status: 'pass', confidence: 'observed', summary: `negotiated ${versionName(version)} (policy: at least TLS ${policy.minTls})`, evidence: {frames: [serverHello.frame], values}}
  }
  const despite = offered13 && version < TLS_1_3 ? ' although the client offered TLS 1.3' : ''
  return {
    id: ID,
    status: 'fail',
    confidence: 'observed',
    summary: `negotiated ${versionName(version)}${despite}; the policy requires at least TLS ${policy.minTls}`,
    evidence: {frames: [serverHello.frame], values},
    hint:
      version === TLS_1_2
        ? `the server chose TLS 1.2${despite ? ' (a load balancer or proxy terminating TLS in front of the Console often does)' : ''}: enable TLS 1.3 where TLS is terminated, or, if the deployment accepts TLS 1.2, run with --min-tls 1.2`
        : `${versionName(version)} is obsolete: configure the server for TLS 1.2 or later`,
  }
}
