/**
 * tls.version: the negotiated version meets the policy. Default: TLS 1.3 pass, TLS 1.2 warn
 * (newer Consoles negotiate TLS 1.3; some versions document mutual TLS 1.2), below 1.2 fail.
 * --min-tls 1.3 makes TLS 1.2 fail; --min-tls 1.2 makes it pass.
 */
import type {ConnectionFacts} from '../model/facts.js'
import {TLS_1_2, TLS_1_3} from '../protocols/tls/iana/versions.js'
import type {CheckResult, CheckStatus} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import {skip, tlsFactsOf, versionName} from './tls-common.js'

const ID = 'tls.version'

/** The policy in words, for summaries: "at least TLS 1.2" or the default's two lines. */
export function describeVersionPolicy(policy: Policy): string {
  return policy.minTls === undefined ? 'TLS 1.3 expected, TLS 1.2 warned, below fails' : `at least TLS ${policy.minTls}`
}

export interface VersionJudgement {
  status: CheckStatus
  /** What to do, on a warn or a fail. */
  hint?: string
}

/**
 * The policy applied to a negotiated version (shared with the probe). `offered13`: the client
 * offered TLS 1.3 and the server still chose less (a TLS-terminating middlebox often does).
 */
export function judgeVersion(version: number, policy: Policy, offered13 = false): VersionJudgement {
  if (version >= TLS_1_3) return {status: 'pass'}
  if (version < TLS_1_2) return {status: 'fail', hint: `${versionName(version)} is obsolete: configure the server for TLS 1.2 or later`}
  const middlebox = offered13 ? ' (a load balancer or proxy terminating TLS in front of the Console often does)' : ''
  if (policy.minTls === '1.2') return {status: 'pass'}
  if (policy.minTls === '1.3') {
    return {status: 'fail', hint: `the server chose TLS 1.2${middlebox}: enable TLS 1.3 where TLS is terminated, or, if the deployment accepts TLS 1.2, run with --min-tls 1.2`}
  }
  return {
    status: 'warn',
    hint: `newer Consoles negotiate TLS 1.3; some versions document mutual TLS 1.2${middlebox}. If this Console is one of them, --min-tls 1.2 accepts it; --min-tls 1.3 makes it fail`,
  }
}

export function checkTlsVersion(facts: ConnectionFacts, policy: Policy): CheckResult {
  const tls = tlsFactsOf(facts)
  const serverHello = tls?.serverHello
  if (!tls || !serverHello) return skip(ID, 'no ServerHello, so no version was negotiated (see tls.server-hello)')
  const version = tls.version ?? serverHello.version
  const offered13 = tls.clientHellos.some((hello) => hello.offersTls13)
  const values = {negotiated: versionName(version), policy: describeVersionPolicy(policy), clientOfferedTls13: offered13}
  const judged = judgeVersion(version, policy, offered13)
  const despite = offered13 && version < TLS_1_3 ? ' although the client offered TLS 1.3' : ''
  const result: CheckResult = {
    id: ID,
    status: judged.status,
    confidence: 'observed',
    summary: `negotiated ${versionName(version)}${despite} (policy: ${describeVersionPolicy(policy)})`,
    evidence: {frames: [serverHello.frame], values},
  }
  if (judged.hint !== undefined) result.hint = judged.hint
  return result
}
