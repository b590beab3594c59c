/**
 * The check catalogue: every check registered once, run in the public order of CHECK_IDS
 * (DESIGN.md "Check catalogue"). Adding a check is one line in REGISTRY; its place in the
 * output comes from CHECK_IDS, not from where the line is. The active probe's checks (read from
 * ProbeFacts, in checks/probe/) are registered here too, in PROBE_REGISTRY, with the same ids
 * where they apply plus their own (PROBE_CHECK_IDS: dns.resolve, ws.ping, clock.skew, certs.lifetime, certs.requested-ca).
 */
import {capFrames, countOmitted} from '../lists.js'
import {DERIVED, type ConnectionFacts} from '../model/facts.js'
import {checkPathAnsweredBy} from './path-answered-by.js'
import {checkPathRedirect} from './path-redirect.js'
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
import {SNAPLEN_HINT, snaplenVerdict} from './tls-common.js'
import {checkTlsVersion} from './tls-version.js'
import {checkWsSession} from './ws-session.js'
import {checkWsUpgrade} from './ws-upgrade.js'
import {probeCertsLifetime} from './probe/certs-lifetime.js'
import {probeCertsRequestedCa} from './probe/certs-requested-ca.js'
import {probeClockSkew} from './probe/clock-skew.js'
import {probeDnsResolve} from './probe/dns-resolve.js'
import {probeProxyConnect} from './probe/proxy-connect.js'
import {probeTcpSynAck} from './probe/tcp-syn-ack.js'
import {probeTlsAlerts} from './probe/tls-alerts.js'
import {probeTlsCertificate} from './probe/tls-certificate.js'
import {probeTlsClientCertificate} from './probe/tls-client-certificate.js'
import {probeTlsFinished} from './probe/tls-finished.js'
import {probeTlsVersion} from './probe/tls-version.js'
import {probeWsPing} from './probe/ws-ping.js'
import {probeWsSession} from './probe/ws-session.js'
import {probeWsUpgrade} from './probe/ws-upgrade.js'
import type {ProbeFacts} from '../model/probe.js'
import type {CheckOf} from './types.js'
import {type CheckId, type CheckResult, type CheckStatus, type ConnectionVerdict} from '../model/checks.js'
import type {Policy} from '../model/policy.js'

/** A check in a catalogue: its public id, its function, and which facts it applies to. */
interface RegisteredCheck<F> {
  id: CheckId
  check: CheckOf<F>
  /** Checks that apply to some connections (proxy.connect) or probe runs (a proxy, --hold) only are left out elsewhere rather than listed as skipped. */
  appliesTo?: (facts: F) => boolean
}

/** The entries of `registry` that apply to `facts`, run in order, each result passed through `finish`. */
function runRegistered<F>(registry: readonly RegisteredCheck<F>[], facts: F, policy: Policy, finish: (result: CheckResult) => CheckResult): CheckResult[] {
  const results: CheckResult[] = []
  for (const entry of registry) {
    if (entry.appliesTo && !entry.appliesTo(facts)) continue
    results.push(finish(entry.check(facts, policy)))
  }
  return results
}

/** The capture checks, in the public order of CHECK_IDS (test/checks/tcp-run-checks.test.ts holds it). */
const CATALOGUE: readonly RegisteredCheck<ConnectionFacts>[] = [
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
  {id: 'path.redirect', check: checkPathRedirect, appliesTo: (facts) => facts.hairpin !== undefined},
  {id: 'path.answered-by', check: checkPathAnsweredBy, appliesTo: (facts) => facts.answeredBy !== undefined},
]

/** The ids analyze reports, in the order it reports them (`analyze --help` lists them). */
export const CATALOGUE_IDS: readonly CheckId[] = CATALOGUE.map((entry) => entry.id)

/** Runs every registered check on one connection, in catalogue order. */
export function runChecks(facts: ConnectionFacts, policy: Policy): CheckResult[] {
  return runRegistered(CATALOGUE, facts, policy, (result) => capEvidence(snaplenVerdict(facts, result)))
}

/**
 * The probe's checks, in the order of its phases (dns, connect, proxy, TLS, upgrade, ping, hold):
 * a probe reports what it did in the order it did it. Every result is observed (the probe is the
 * client); a phase after a failed one is skipped naming it.
 */
const PROBE_REGISTRY: readonly RegisteredCheck<ProbeFacts>[] = [
  {id: 'dns.resolve', check: probeDnsResolve},
  {id: 'tcp.syn-ack', check: probeTcpSynAck},
  {id: 'proxy.connect', check: probeProxyConnect, appliesTo: (facts) => facts.proxy !== undefined},
  {id: 'tls.version', check: probeTlsVersion},
  {id: 'tls.certificate', check: probeTlsCertificate},
  {id: 'tls.client-certificate', check: probeTlsClientCertificate},
  // The CertificateRequest's CA names, beside the client certificate they are about.
  {id: 'certs.requested-ca', check: probeCertsRequestedCa},
  {id: 'tls.finished', check: probeTlsFinished},
  {id: 'tls.alerts', check: probeTlsAlerts},
  {id: 'certs.lifetime', check: probeCertsLifetime},
  {id: 'ws.upgrade', check: probeWsUpgrade},
  // From the upgrade's answer (its Date header): right after ws.upgrade.
  {id: 'clock.skew', check: probeClockSkew},
  {id: 'ws.ping', check: probeWsPing},
  {id: 'ws.session', check: probeWsSession, appliesTo: (facts) => facts.session !== undefined},
]

/** Runs the probe's checks on what it did and saw, in the order of its phases. */
export function runProbeChecks(facts: ProbeFacts, policy: Policy): CheckResult[] {
  return runRegistered(PROBE_REGISTRY, facts, policy, (result) => result)
}

/** A check cites at most LIST_CAPS.evidenceFrames frames; the rest are counted in evidence.truncated. */
function capEvidence(result: CheckResult): CheckResult {
  const {frames, omitted} = capFrames(result.evidence.frames)
  if (omitted > 0) {
    result.evidence.frames = frames
    countOmitted(result.evidence, 'frames', omitted)
  }
  return result
}

const SEVERITY: Record<CheckStatus, number> = {skip: 0, pass: 1, warn: 2, fail: 3}

/** The worst status among results: fail > warn > pass > skip; skip for none. */
export function worstStatus(results: ReadonlyArray<{status: CheckStatus}>): CheckStatus {
  let worst: CheckStatus = 'skip'
  for (const result of results) if (SEVERITY[result.status] > SEVERITY[worst]) worst = result.status
  return worst
}

/** Why a connection's verdict is inconclusive, and how to capture it again. */
export interface Inconclusive {
  reason: string
  hint: string
}

export const MIDSTREAM_HINT =
  'capture again, starting tcpdump before the Defender connects (e.g. start the capture, then restart the Defender so it reconnects), so the TCP and TLS handshakes are in the capture'

const OVERLAP_HINT =
  'capture again on the Defender host (tcpdump -i any -s 0): two copies of the same TCP bytes differed in this capture, so what the Console received cannot be told'

/**
 * The essential handshake was not in the capture: neither the SYN nor a ClientHello (the capture
 * started mid-connection), the snaplen cut the TLS handshake's payload so the TLS checks could
 * not judge it, or the ClientHello bytes the capture holds disagree with a retransmission of
 * them. Passing such a connection would claim what was never seen.
 */
export function inconclusiveOf(facts: ConnectionFacts, checks: readonly CheckResult[]): Inconclusive | undefined {
  const tls = facts.tls
  const sawHello = (tls?.clientHellos.length ?? 0) > 0 || tls?.serverHello !== undefined
  if (!facts.tcp.sawOpening && !sawHello && tls?.notTls === undefined) {
    return {reason: 'the capture started after the connection opened: neither its SYN nor its ClientHello is in it, so nothing about the handshake could be verified', hint: MIDSTREAM_HINT}
  }
  const cut = facts[DERIVED].snaplenCut
  if (cut !== undefined && checks.some((check) => check.status === 'skip' && check.evidence.values?.firstCutFrame !== undefined)) {
    return {reason: `the capture kept only the first ${cut.snaplen ?? 'few'} bytes of each packet (snaplen), so the TLS handshake from frame ${cut.frame} on could not be read`, hint: SNAPLEN_HINT}
  }
  const hello = checks.find((check) => check.id === 'tls.client-hello')
  if (hello?.status === 'skip' && hello.evidence.values?.overlapMismatchFrame !== undefined) {
    return {reason: hello.summary, hint: OVERLAP_HINT}
  }
  return undefined
}

/**
 * A connection's verdict, by precedence fail > inconclusive > warn > pass > skip. Under --strict
 * a warn fails (CI gates: nothing short of verified passes).
 */
export function connectionVerdict(checks: readonly CheckResult[], policy: Policy, inconclusive?: Inconclusive): ConnectionVerdict {
  const worst = worstStatus(checks)
  if (worst === 'fail') return 'fail'
  if (worst === 'warn' && policy.strict === true) return 'fail'
  if (inconclusive !== undefined) return 'inconclusive'
  return worst
}
