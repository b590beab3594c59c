/**
 * The counts a verdict is made of: over every connection analysed, listed or not, as each one is
 * decided (the Analyzer, a sharded analysis's merge) or over a list (the probe, watch).
 */
import type {CheckStatus} from '../model/checks.js'
import type {Policy} from '../model/policy.js'
import type {ConnectionReport, Summary} from '../model/report.js'

/** Counts over every connection analysed, listed or not. */
export interface Tally {
  connections: number
  failing: number
  /** Connections with an inconclusive verdict, and the first one's reason (the summary's hint). */
  inconclusive: number
  firstInconclusive?: {reason: string; hint: string}
  /** Connections whose handshake was seen and judged (verdict pass or warn). */
  judged: number
  pass: number
  fail: number
  warn: number
  skip: number
}

export function newTally(): Tally {
  return {connections: 0, failing: 0, inconclusive: 0, judged: 0, pass: 0, fail: 0, warn: 0, skip: 0}
}

/** The statuses a tally counts, in the order of a StatusCounts. */
export const COUNTED_STATUSES: readonly CheckStatus[] = ['pass', 'fail', 'warn', 'skip']

/** A connection's checks counted by status (COUNTED_STATUSES' order): what a shard sends of them. */
export type StatusCounts = [pass: number, fail: number, warn: number, skip: number]

export function statusCountsOf(connection: Pick<ConnectionReport, 'checks'>): StatusCounts {
  const counts: StatusCounts = [0, 0, 0, 0]
  for (const check of connection.checks) counts[COUNTED_STATUSES.indexOf(check.status)]++
  return counts
}

/** One decided connection into the tally. */
export function countConnection(tally: Tally, connection: Pick<ConnectionReport, 'checks' | 'verdict' | 'inconclusive'>): void {
  tally.connections++
  for (const check of connection.checks) tally[check.status]++
  countVerdict(tally, connection)
}

/** One decided connection into the tally, its checks already counted (a shard's record). */
export function countStatuses(tally: Tally, counts: StatusCounts, connection: Pick<ConnectionReport, 'verdict' | 'inconclusive'>): void {
  tally.connections++
  for (let i = 0; i < COUNTED_STATUSES.length; i++) tally[COUNTED_STATUSES[i]!] += counts[i]!
  countVerdict(tally, connection)
}

/**
 * The verdict over connections: fail when a check failed, or when there is no connection at all
 * to judge (no Console traffic). Shared by capture analysis and the probe.
 */
export function summarizeConnections(connections: ReadonlyArray<ConnectionReport>, policy: Policy): Summary {
  const tally = newTally()
  for (const connection of connections) countConnection(tally, connection)
  return summaryOf(tally, policy)
}

function countVerdict(tally: Tally, connection: Pick<ConnectionReport, 'verdict' | 'inconclusive'>): void {
  if (connection.verdict === 'fail') tally.failing++
  if (connection.verdict === 'pass' || connection.verdict === 'warn') tally.judged++
  if (connection.verdict === 'inconclusive') {
    tally.inconclusive++
    tally.firstInconclusive ??= connection.inconclusive
  }
}

export function summaryOf(tally: Tally, policy: Policy): Summary {
  const summary: Summary = {connections: tally.connections, pass: tally.pass, fail: tally.fail, warn: tally.warn, skip: tally.skip, verdict: 'pass'}
  if (tally.connections === 0) {
    summary.verdict = 'fail'
    const ports = policy.ports.length === 0 ? 'any port' : `port ${policy.ports.join(', ')}`
    summary.reason = `no TCP traffic to the Console (${ports}${policy.consoleIp ? ` at ${policy.consoleIp}` : ''}) in the capture`
  } else if (tally.failing > 0) {
    summary.verdict = 'fail'
    summary.reason =
      policy.strict === true && tally.fail === 0
        ? `${tally.failing} of ${tally.connections} connection(s) had a warning, which --strict counts as a failure`
        : `${tally.failing} of ${tally.connections} connection(s) failed a check${policy.strict === true ? ' (or warned, under --strict)' : ''}`
  } else if (tally.inconclusive > 0 && tally.judged === 0) {
    // fail > inconclusive > pass: nothing failed, and no connection's handshake was seen whole,
    // so the run verified nothing. Where other connections were seen and passed, the run passes
    // on them and the inconclusive ones are counted (and each keeps its own verdict and hint).
    summary.verdict = 'inconclusive'
    summary.reason = `${tally.inconclusive} of ${tally.connections} connection(s) inconclusive: ${tally.firstInconclusive?.reason ?? 'the handshake was not in the capture'}`
    if (tally.firstInconclusive !== undefined) summary.hint = tally.firstInconclusive.hint
  } else if (tally.inconclusive > 0) {
    summary.reason = `${tally.inconclusive} of ${tally.connections} connection(s) inconclusive, not counted in the verdict: ${tally.firstInconclusive?.reason ?? 'the handshake was not in the capture'}`
  }
  if (tally.inconclusive > 0) summary.inconclusive = tally.inconclusive
  return summary
}

