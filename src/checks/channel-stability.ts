/**
 * `channel.stability`, per Defender across its connections (DESIGN.md, check catalogue): no
 * idle-timeout cuts, reconnect storms, silent stops or duplicate identities.
 *
 * PLACEHOLDER during this session's parallel work: the analysis of issue 18 replaces the body.
 * The signature is the contract `analyze`, `capture` and `watch` call.
 */
import type {CheckResult} from '../model/checks.js'
import type {DefenderReport} from '../model/defenders.js'
import type {Policy} from '../model/policy.js'

export type StabilityInput = Omit<DefenderReport, 'checks' | 'verdict'>

export function checkChannelStability(defender: StabilityInput, _policy: Policy): CheckResult {
  return {
    id: 'channel.stability',
    status: 'skip',
    confidence: 'inferred',
    summary: `${defender.connections} connection(s): stability not judged yet`,
    evidence: {frames: []},
  }
}
