/**
 * path.answered-by — the handshake or a reset came from something other than the endpoint that
 * carried the session: a local proxy, a load balancer or SYN proxy that completed the handshake,
 * a middlebox that injected a RST (analysis/answered-by.ts says how each is told from the
 * capture). Only on connections where the capture shows one; a warn, inferred from TTLs, RTTs
 * and TCP options, never observed.
 */
import type {CheckResult} from '../model/checks.js'
import type {ConnectionFacts} from '../model/facts.js'

export function checkPathAnsweredBy(facts: ConnectionFacts): CheckResult {
  const findings = facts.answeredBy?.findings ?? []
  if (findings.length === 0) {
    return {id: 'path.answered-by', status: 'skip', confidence: 'inferred', summary: 'the capture shows nothing but the two endpoints answering', evidence: {frames: []}}
  }
  const frames = [...new Set(findings.flatMap((finding) => finding.frames))].sort((a, b) => a - b)
  const values: Record<string, unknown> = {answeredBy: findings.map((finding) => finding.kind)}
  for (const finding of findings) Object.assign(values, finding.values)
  return {
    id: 'path.answered-by',
    status: 'warn',
    confidence: 'inferred',
    summary: findings.map((finding) => finding.reason).join('; '),
    evidence: {frames, values},
    hint: findings.map((finding) => finding.device).join('; '),
  }
}
