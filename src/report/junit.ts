/**
 * JUnit XML for CI: one <testsuite> per connection, one <testcase> per check. fail → <failure>
 * (message: the summary; body: hint and evidence), skip → <skipped>, warn → a passing testcase
 * whose <system-out> carries the warning (a <failure type="warn"> under --strict). An inconclusive
 * connection gets one more testcase, "verdict", failing with type="inconclusive": its reason and
 * how to capture again (a CI job must not read it as green). The element and attribute set is the one Jenkins,
 * GitLab and the Ant JUnit task read (testsuites > testsuite > testcase).
 *
 * With the per-Defender view (issue 18), one more <testsuite> per Defender follows the
 * connections' suites: its `channel.stability` testcase (mapped as above), then what its
 * connections say, so that a CI reader sees per Defender which check keeps failing and how often
 * without adding up connection suites: one failing testcase per check id that failed on any of
 * its connections ("failed on 150 of 150 connections", the recent ones' ids in the body), or,
 * when none failed, one testcase "connections" (failing as inconclusive when its verdict is).
 * A report without the view is written exactly as before.
 */
import type {DefenderReport, DefenderView} from '../model/defenders.js'
import type {AnalysisReport, ConnectionReport} from '../model/report.js'
import type {CheckResult} from '../model/checks.js'
import {formatEndpoint} from '../model/format.js'
import {describeNoTraffic, isoSpanSeconds} from './text.js'

interface Totals {
  tests: number
  failures: number
  skipped: number
}

export function renderJunit(report: AnalysisReport): string {
  const suites: string[] = []
  const totals: Totals = {tests: 0, failures: 0, skipped: 0}
  if (report.summary.connections === 0) {
    const text = describeNoTraffic(report)
    totals.tests = 1
    totals.failures = 1
    suites.push(
      `  <testsuite name="defender-check" tests="1" failures="1" errors="0" skipped="0">\n` +
        `    <testcase name="console-traffic" classname="defender-check">\n` +
        `      <failure message="${attr(text.headline)}" type="fail">${xmlText(`${text.seenInstead}\n${text.advice}`)}</failure>\n` +
        `    </testcase>\n` +
        `  </testsuite>`,
    )
  }
  for (const connection of report.connections) {
    const suite = testsuite(connection, report.source.name, report.policy.strict === true)
    totals.tests += suite.totals.tests
    totals.failures += suite.totals.failures
    totals.skipped += suite.totals.skipped
    suites.push(suite.xml)
  }
  if (report.defenders !== undefined) {
    for (const suite of defenderSuites(report.defenders, report.source.name, report.policy.strict === true)) {
      totals.tests += suite.totals.tests
      totals.failures += suite.totals.failures
      totals.skipped += suite.totals.skipped
      suites.push(suite.xml)
    }
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="defender-check" tests="${totals.tests}" failures="${totals.failures}" errors="0" skipped="${totals.skipped}">\n` +
    `${suites.join('\n')}\n` +
    `</testsuites>\n`
  )
}

function testsuite(connection: ConnectionReport, sourceName: string, strict: boolean): {xml: string; totals: Totals} {
  const totals: Totals = {tests: connection.checks.length, failures: 0, skipped: 0}
  const cases: string[] = []
  for (const check of connection.checks) {
    if (check.status === 'fail' || (strict && check.status === 'warn')) totals.failures++
    if (check.status === 'skip') totals.skipped++
    cases.push(testcase(check, connection.id, strict))
  }
  if (connection.inconclusive !== undefined) {
    totals.tests++
    totals.failures++
    cases.push(
      `    <testcase name="verdict" classname="defender-check.conn-${connection.id}">\n` +
        `      <failure message="${attr(`inconclusive: ${connection.inconclusive.reason}`)}" type="inconclusive">${xmlText(`hint: ${connection.inconclusive.hint}`)}</failure>\n` +
        `    </testcase>`,
    )
  }
  const name = `${formatEndpoint(connection.client)} → ${formatEndpoint(connection.server)}`
  const time = Math.max(0, isoSpanSeconds(connection.startedAt, connection.endedAt))
  // The Ant JUnit schema's timestamp is an ISO-8601 date-time without a zone; the report's times are UTC.
  const timestamp = connection.startedAt.slice(0, 19)
  const xml =
    `  <testsuite name="${attr(name)}" id="${connection.id}" tests="${totals.tests}" failures="${totals.failures}" errors="0" skipped="${totals.skipped}" time="${time.toFixed(3)}" timestamp="${attr(timestamp)}">\n` +
    `    <properties>\n` +
    `      <property name="source" value="${attr(sourceName)}"/>\n` +
    `      <property name="verdict" value="${connection.verdict}"/>\n` +
    `    </properties>\n` +
    `${cases.join('\n')}\n` +
    `  </testsuite>`
  return {xml, totals}
}

function testcase(check: CheckResult, connectionId: number | string, strict: boolean): string {
  const open = `    <testcase name="${attr(check.id)}" classname="${attr(typeof connectionId === 'number' ? `defender-check.conn-${connectionId}` : connectionId)}"`
  switch (check.status) {
    case 'pass':
      return `${open}/>`
    case 'fail':
      return `${open}>\n      <failure message="${attr(check.summary)}" type="fail">${xmlText(details(check))}</failure>\n    </testcase>`
    case 'skip':
      return `${open}>\n      <skipped message="${attr(check.summary)}"/>\n    </testcase>`
    case 'warn':
      if (strict) return `${open}>\n      <failure message="${attr(`WARN (--strict): ${check.summary}`)}" type="warn">${xmlText(details(check))}</failure>\n    </testcase>`
      return `${open}>\n      <system-out>${xmlText(`WARN: ${check.summary}\n${details(check)}`)}</system-out>\n    </testcase>`
  }
}

/** The recent failing connections a Defender's testcase names (its sessions list holds the most recent ones). */
const FAILING_CONNECTIONS_LISTED = 10

function defenderSuites(view: DefenderView, sourceName: string, strict: boolean): Array<{xml: string; totals: Totals}> {
  const suites = view.defenders.map((defender) => defenderSuite(defender, sourceName, strict))
  if (view.overflow > 0) {
    // Not a failure (their connections are still judged one by one), but a CI reader must know the view is partial.
    const text = `${view.overflow} Defender${view.overflow === 1 ? '' : 's'} beyond the limit of ${view.limit} were counted but not tracked one by one; their connections are in the suites above`
    suites.push({
      xml:
        `  <testsuite name="Defenders beyond the limit" tests="1" failures="0" errors="0" skipped="0">\n` +
        `    <testcase name="defender-limit" classname="defender-check.defenders">\n` +
        `      <system-out>${xmlText(text)}</system-out>\n` +
        `    </testcase>\n` +
        `  </testsuite>`,
      totals: {tests: 1, failures: 0, skipped: 0},
    })
  }
  return suites
}

function defenderSuite(defender: DefenderReport, sourceName: string, strict: boolean): {xml: string; totals: Totals} {
  const {identity} = defender
  // A classname per Defender that CI tools do not split into packages at the dots of an address.
  const classname = `defender-check.defender-${identity.key.replace(/[^A-Za-z0-9_-]+/g, '_')}`
  const totals: Totals = {tests: 0, failures: 0, skipped: 0}
  const cases: string[] = []
  for (const check of defender.checks) {
    totals.tests++
    if (check.status === 'fail' || (strict && check.status === 'warn')) totals.failures++
    if (check.status === 'skip') totals.skipped++
    cases.push(testcase(check, classname, strict))
  }
  const open = (name: string) => `    <testcase name="${attr(name)}" classname="${attr(classname)}"`
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  for (const failed of defender.failedChecks) {
    totals.tests++
    totals.failures++
    const every = failed.count === defender.connections ? ' (every attempt)' : ''
    const message = `failed on ${failed.count} of ${plural(defender.connections, 'connection')}${every}`
    const recent = defender.sessions.filter((session) => session.failedChecks.includes(failed.id)).slice(-FAILING_CONNECTIONS_LISTED)
    const body = [
      `recent failing connections (their own testsuites have the evidence): ${recent.map((session) => `#${session.connection} at ${session.startedAt}`).join(', ')}`,
    ]
    cases.push(`${open(failed.id)}>\n      <failure message="${attr(message)}" type="fail">${xmlText(recent.length > 0 ? body.join('\n') : '')}</failure>\n    </testcase>`)
  }
  if (defender.failedChecks.length === 0) {
    totals.tests++
    const counts = `${plural(defender.connections, 'connection')}, ${plural(defender.reconnects, 'reconnect')}, no check failed`
    if (defender.verdict === 'inconclusive') {
      totals.failures++
      cases.push(`${open('connections')}>\n      <failure message="${attr(`inconclusive: ${counts}, but not every handshake was in the capture`)}" type="inconclusive">${xmlText('hint: see the inconclusive connections\' suites for how to capture again')}</failure>\n    </testcase>`)
    } else {
      cases.push(`${open('connections')}>\n      <system-out>${xmlText(counts)}</system-out>\n    </testcase>`)
    }
  }
  const time = Math.max(0, isoSpanSeconds(defender.firstSeen, defender.lastSeen))
  const properties: Array<[string, string]> = [
    ['source', sourceName],
    ['verdict', defender.verdict],
    ['client', identity.clientIp],
  ]
  if (identity.certificateSubject !== undefined) properties.push(['certificate', identity.certificateSubject])
  if (identity.sni !== undefined) properties.push(['sni', identity.sni])
  properties.push(['connections', String(defender.connections)], ['reconnects', String(defender.reconnects)])
  if (defender.lastGoodHandshake !== undefined) properties.push(['last-good-handshake', defender.lastGoodHandshake])
  const xml =
    `  <testsuite name="${attr(`Defender ${identity.key}`)}" tests="${totals.tests}" failures="${totals.failures}" errors="0" skipped="${totals.skipped}" time="${time.toFixed(3)}" timestamp="${attr(defender.firstSeen.slice(0, 19))}">\n` +
    `    <properties>\n` +
    properties.map(([name, value]) => `      <property name="${name}" value="${attr(value)}"/>\n`).join('') +
    `    </properties>\n` +
    `${cases.join('\n')}\n` +
    `  </testsuite>`
  return {xml, totals}
}

/** Hint, then the evidence: what a CI log reader needs to act. */
function details(check: CheckResult): string {
  const lines: string[] = []
  if (check.hint !== undefined) lines.push(`hint: ${check.hint}`)
  lines.push(`confidence: ${check.confidence}`)
  if (check.evidence.frames.length > 0) lines.push(`frames: ${check.evidence.frames.join(', ')}`)
  for (const [key, value] of Object.entries(check.evidence.values ?? {})) lines.push(`${key}: ${JSON.stringify(value)}`)
  return lines.join('\n')
}

/**
 * Characters XML 1.0 forbids anywhere (§2.2 Char: C0 controls other than tab, LF, CR; U+FFFE,
 * U+FFFF; unpaired surrogates). They are dropped: no escape makes them legal.
 */
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function xmlText(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Attribute values also escape quotes, and tab/LF/CR, which attribute-value normalisation (§3.3.3) would turn into spaces. */
function attr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;')
}
