/**
 * The probe's facts as an AnalysisReport, so every renderer, the JSON schema and the exit codes
 * work as for analyze: source.kind 'probe', one connection whose checks are the probe's.
 */
import {connectionVerdict, runProbeChecks} from '../checks/index.js'
import type {Policy} from '../model/policy.js'
import {summarizeConnections} from '../analysis/analyzer.js'
import type {AnalysisReport, ConnectionReport, SourceInfo} from '../model/report.js'
import {TOOL_VERSION} from '../analysis/version.js'
import type {ProbeFacts} from '../model/probe.js'

/** The unspecified address stands for an endpoint the probe never learned (no DNS answer, no connection). */
const UNKNOWN_IP = '0.0.0.0'

export function probeConnection(facts: ProbeFacts, policy: Policy, id = 1): ConnectionReport {
  const checks = runProbeChecks(facts, policy)
  const server = facts.tcp.remote ?? {ip: facts.tcp.attempts[0]?.address ?? facts.dns.addresses[0]?.address ?? UNKNOWN_IP, port: facts.tcp.viaProxy ? 0 : facts.target.port}
  return {
    id,
    client: facts.tcp.local ?? {ip: UNKNOWN_IP, port: 0},
    server,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    facts,
    checks,
    // The probe sees its whole handshake: it is never inconclusive, but --strict applies.
    verdict: connectionVerdict(checks, policy),
  }
}

export function probeReport(facts: ProbeFacts, policy: Policy): AnalysisReport {
  const connection = probeConnection(facts, policy)
  const source: SourceInfo = {kind: 'probe', name: facts.target.url, frames: 0, firstTs: facts.startedAt, lastTs: facts.endedAt, issues: []}
  return {
    schemaVersion: 1,
    tool: {name: 'defender-check', version: TOOL_VERSION},
    source,
    policy,
    connections: [connection],
    summary: summarizeConnections([connection], policy),
  }
}
