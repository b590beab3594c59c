/**
 * What the table needs of a capture's connections, in bounded memory: counts per verdict, TLS
 * handshakes seen, each failing or warning check with how many connections it hit, the first
 * few connections in full (a small capture is printed whole) and the worst few (a big one is
 * summarised). Connections may arrive in any order (the analysis hands them over as each one
 * closes); what the digest keeps does not depend on that order.
 */
import {countOf} from '../lists.js'
import type {ConnectionReport} from '../model/report.js'
import {CHECK_IDS, type CheckId, type CheckResult, type CheckStatus, type ConnectionVerdict} from '../model/checks.js'

/** A failing or warning check, over every connection it hit. */
export interface CheckReason {
  id: CheckId
  status: CheckStatus
  connections: number
  /** The result on the connection with the lowest id it hit. */
  example: CheckResult
  connection: number
}

/** A digest's content (ConnectionDigest.part), as a shard of a sharded analysis sends it. */
export interface DigestPart {
  connections: number
  verdicts: Record<ConnectionVerdict, number>
  clientHellos: number
  serverHellos: number
  tls13: number
  withTls: number
  reasons: CheckReason[]
  /** Every connection while there were at most keepAllUpTo, else undefined. */
  all: ConnectionReport[] | undefined
  worst: ConnectionReport[]
}

export interface ConnectionDigestOptions {
  /** Connections kept in full while there are no more than this many: the table prints them all. */
  keepAllUpTo: number
  /** The worst connections kept (failing, then warning; the most failed checks first). */
  worst: number
}

const VERDICT_RANK: Record<ConnectionVerdict, number> = {fail: 0, inconclusive: 1, warn: 2, skip: 3, pass: 4}

export class ConnectionDigest {
  connections = 0
  readonly verdicts: Record<ConnectionVerdict, number> = {pass: 0, warn: 0, fail: 0, skip: 0, inconclusive: 0}
  clientHellos = 0
  serverHellos = 0
  tls13 = 0
  withTls = 0
  private readonly reasonsByKey = new Map<string, CheckReason>()
  /** Every connection, while there are at most keepAllUpTo of them; dropped past that. */
  private all: ConnectionReport[] | undefined = []
  /** The worst connections so far, worst first (at most options.worst). */
  private readonly worstKept: ConnectionReport[] = []

  constructor(private readonly options: ConnectionDigestOptions) {}

  /** Builds the digest of connections already in hand. */
  static of(connections: Iterable<ConnectionReport>, options: ConnectionDigestOptions): ConnectionDigest {
    const digest = new ConnectionDigest(options)
    for (const connection of connections) digest.add(connection)
    return digest
  }

  add(connection: ConnectionReport): void {
    this.connections++
    this.verdicts[connection.verdict]++
    const tls = 'tls' in connection.facts ? connection.facts.tls : undefined
    if (tls) {
      this.withTls++
      this.clientHellos += countOf(tls, 'clientHellos', tls.clientHellos)
      if (tls.serverHello) this.serverHellos++
      if (tls.version === 0x0304) this.tls13++
    }
    for (const check of connection.checks) {
      if (check.status !== 'fail' && check.status !== 'warn') continue
      const key = `${check.status} ${check.id}`
      const reason = this.reasonsByKey.get(key)
      if (reason === undefined) {
        this.reasonsByKey.set(key, {id: check.id, status: check.status, connections: 1, example: check, connection: connection.id})
      } else {
        reason.connections++
        if (connection.id < reason.connection) {
          reason.example = check
          reason.connection = connection.id
        }
      }
    }
    if (this.all !== undefined) {
      if (this.all.length < this.options.keepAllUpTo) this.all.push(connection)
      else this.all = undefined
    }
    this.keepIfWorst(connection)
  }

  /** What this digest holds, for a sharded analysis to merge (absorb) into the whole capture's. */
  part(): DigestPart {
    return {
      connections: this.connections,
      verdicts: {...this.verdicts},
      clientHellos: this.clientHellos,
      serverHellos: this.serverHellos,
      tls13: this.tls13,
      withTls: this.withTls,
      reasons: [...this.reasonsByKey.values()],
      all: this.all,
      worst: this.worstKept,
    }
  }

  /**
   * Adds a shard's digest (its connections' ids already those of the whole capture): the same
   * digest as if its connections had been added one by one, since nothing kept depends on order.
   */
  absorb(part: DigestPart): void {
    this.connections += part.connections
    for (const verdict of Object.keys(part.verdicts) as ConnectionVerdict[]) this.verdicts[verdict] += part.verdicts[verdict]
    this.clientHellos += part.clientHellos
    this.serverHellos += part.serverHellos
    this.tls13 += part.tls13
    this.withTls += part.withTls
    for (const reason of part.reasons) {
      const key = `${reason.status} ${reason.id}`
      const kept = this.reasonsByKey.get(key)
      if (kept === undefined) {
        this.reasonsByKey.set(key, {...reason})
      } else {
        kept.connections += reason.connections
        if (reason.connection < kept.connection) {
          kept.example = reason.example
          kept.connection = reason.connection
        }
      }
    }
    this.all = this.all !== undefined && part.all !== undefined && this.all.length + part.all.length <= this.options.keepAllUpTo ? [...this.all, ...part.all] : undefined
    for (const connection of part.worst) this.keepIfWorst(connection)
  }

  /** Every connection by id, or undefined when there were too many to keep. */
  everyConnection(): ConnectionReport[] | undefined {
    return this.all === undefined ? undefined : [...this.all].sort((a, b) => a.id - b.id)
  }

  /** The worst connections, worst first: failing before warning, most failed checks, lowest id. */
  worst(): ConnectionReport[] {
    return [...this.worstKept]
  }

  /** Failing and warning checks: failing first, then by connections hit, then in catalogue order. */
  reasons(): CheckReason[] {
    return [...this.reasonsByKey.values()].sort((a, b) => VERDICT_RANK[a.status] - VERDICT_RANK[b.status] || b.connections - a.connections || catalogueOrder(a.id) - catalogueOrder(b.id))
  }

  private keepIfWorst(connection: ConnectionReport): void {
    if (connection.verdict !== 'fail' && connection.verdict !== 'warn' && connection.verdict !== 'inconclusive') return
    const kept = this.worstKept
    if (kept.length === this.options.worst && (kept.length === 0 || compareWorst(connection, kept[kept.length - 1]!) >= 0)) return
    let at = kept.length
    while (at > 0 && compareWorst(connection, kept[at - 1]!) < 0) at--
    kept.splice(at, 0, connection)
    if (kept.length > this.options.worst) kept.pop()
  }
}

/** Checks of a connection with its verdict's status: how badly it failed or warned. */
function checksAtVerdict(connection: ConnectionReport): number {
  let n = 0
  for (const check of connection.checks) if (check.status === connection.verdict) n++
  return n
}

function compareWorst(a: ConnectionReport, b: ConnectionReport): number {
  return VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] || checksAtVerdict(b) - checksAtVerdict(a) || a.id - b.id
}

/** Position in the check catalogue (DESIGN.md); the probe's own ids come last. */
function catalogueOrder(id: CheckId): number {
  const at = (CHECK_IDS as readonly string[]).indexOf(id)
  return at === -1 ? CHECK_IDS.length : at
}
