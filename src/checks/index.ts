/**
 * The check catalogue: every check registered once, run in the public order of CHECK_IDS
 * (DESIGN.md "Check catalogue"). Adding a check is one line in REGISTRY; its place in the
 * output comes from CHECK_IDS, not from where the line is.
 */
import type {ConnectionFacts} from '../analysis/types.js'
import {checkProxyConnect} from './proxy-connect.js'
import {checkTcpAck} from './tcp-ack.js'
import {checkTcpSyn} from './tcp-syn.js'
import {checkTcpSynAck} from './tcp-syn-ack.js'
import {checkTlsAlerts} from './tls-alerts.js'
import {checkTlsCertificate} from './tls-certificate.js'
import {checkTlsClientCertificate} from './tls-client-certificate.js'
import {checkTlsClientHello} from './tls-client-hello.js'
import {checkTlsFinished} from './tls-finished.js'
import {checkTlsServerHello} from './tls-server-hello.js'
import {snaplenVerdict} from './tls-common.js'
import {checkTlsVersion} from './tls-version.js'
import {checkWsSession} from './ws-session.js'
import {checkWsUpgrade} from './ws-upgrade.js'
import {CHECK_IDS, type Check, type CheckId, type CheckResult, type CheckStatus, type Policy} from './types.js'

interface RegisteredCheck {
  id: CheckId
  check: Check
  /** Checks that apply to some connections only (proxy.connect) are left out elsewhere rather than listed as skipped. */
  appliesTo?: (facts: ConnectionFacts) => boolean
}

const REGISTRY: RegisteredCheck[] = [
  {id: 'tcp.syn', check: checkTcpSyn},
  {id: 'tcp.syn-ack', check: checkTcpSynAck},
  {id: 'tcp.ack', check: checkTcpAck},
  {id: 'proxy.connect', check: checkProxyConnect, appliesTo: (facts) => facts.proxy !== undefined},
  {id: 'tls.client-hello', check: checkTlsClientHello},
  {id: 'tls.server-hello', check: checkTlsServerHello},
  {id: 'tls.version', check: checkTlsVersion},
  {id: 'tls.certificate', check: checkTlsCertificate},
  {id: 'tls.client-certificate', check: checkTlsClientCertificate},
  {id: 'tls.finished', check: checkTlsFinished},
  {id: 'tls.alerts', check: checkTlsAlerts},
  {id: 'ws.upgrade', check: checkWsUpgrade},
  {id: 'ws.session', check: checkWsSession},
]

/** Position in the public order; ids outside CHECK_IDS (probe-only ones) go last. */
function rank(id: CheckId): number {
  const index = (CHECK_IDS as readonly CheckId[]).indexOf(id)
  return index === -1 ? CHECK_IDS.length : index
}

const CATALOGUE: readonly RegisteredCheck[] = [...REGISTRY].sort((a, b) => rank(a.id) - rank(b.id))

/** The ids analyze reports, in the order it reports them (`analyze --help` lists them). */
export const CATALOGUE_IDS: readonly CheckId[] = CATALOGUE.map((entry) => entry.id)

/** Runs every registered check on one connection, in catalogue order. */
export function runChecks(facts: ConnectionFacts, policy: Policy): CheckResult[] {
  const results: CheckResult[] = []
  for (const entry of CATALOGUE) {
    if (entry.appliesTo && !entry.appliesTo(facts)) continue
    results.push(snaplenVerdict(facts, entry.check(facts, policy)))
  }
  return results
}

const SEVERITY: Record<CheckStatus, number> = {skip: 0, pass: 1, warn: 2, fail: 3}

/** The worst status among results: fail > warn > pass > skip; skip for none. */
export function worstStatus(results: ReadonlyArray<{status: CheckStatus}>): CheckStatus {
  let worst: CheckStatus = 'skip'
  for (const result of results) if (SEVERITY[result.status] > SEVERITY[worst]) worst = result.status
  return worst
}
