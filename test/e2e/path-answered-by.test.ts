/**
 * fixtures/path/*: each capture gives the path.answered-by verdict its README states (the
 * control none), with the evidence the README names, in every output: JSON (schema-valid, the
 * facts' answeredBy), the table, the ladder (--timeline) and the HTML report.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {PIPED_WIDTH, renderReport} from '../../src/cli/output.js'
import type {CheckResult} from '../../src/model/checks.js'
import type {CaptureReport} from '../../src/model/report.js'
import {renderHtml} from '../../src/report/html.js'
import {validateReport} from '../../src/report/schema.js'
import {FIXTURES} from '../helpers/paths.js'

async function analyzed(name: string): Promise<CaptureReport> {
  return (await analyzeCapture(join(FIXTURES, 'path', name, 'capture.pcap'), {policy: buildPolicy({})})) as CaptureReport
}

function answeredBy(report: CaptureReport): CheckResult | undefined {
  expect(report.connections).toHaveLength(1)
  return report.connections[0]!.checks.find((check) => check.id === 'path.answered-by')
}

describe('fixtures/path: who answered and who reset (READMEs\' verdicts)', () => {
  it('control: nothing but the Console answered, so no path.answered-by', async () => {
    const report = await analyzed('control')
    expect(answeredBy(report)).toBeUndefined()
    expect(report.connections[0]!.facts).not.toHaveProperty('answeredBy')
    expect(report.connections[0]!.verdict).toBe('pass')
  })

  it('injected-rst: the RST "from the server" crossed one router where the Console\'s packets crossed two', async () => {
    const report = await analyzed('injected-rst')
    const check = answeredBy(report)!
    expect(check).toMatchObject({status: 'warn', confidence: 'inferred'})
    const rst = report.connections[0]!.facts.tcp.rst.filter((event) => event.from === 'server')
    expect(rst).toHaveLength(1)
    expect(check.evidence.frames).toEqual([rst[0]!.frame])
    expect(check.evidence.values).toMatchObject({answeredBy: ['injected-reset'], rstTtl: 63, sideTtl: '62', rstFrom: 'server', deviceRouters: 1, sideRouters: 2, injectedRsts: 1})
    expect(check.summary).toContain(`frame ${rst[0]!.frame} arrived with TTL 63`)
    expect(check.hint).toMatch(/RST injected by a device on the path, 1 router from the client .*firewall or IPS/)
  })

  it('local-proxy: the SYN-ACK "from" the Console crossed no router and came in microseconds; the responses took a WAN round trip', async () => {
    const report = await analyzed('local-proxy')
    const check = answeredBy(report)!
    expect(check).toMatchObject({status: 'warn', confidence: 'inferred'})
    const values = check.evidence.values!
    expect(values).toMatchObject({answeredBy: ['local-proxy'], synAckTtl: 64, synAckRouters: 0, clientTtl: 64})
    expect(values.synToSynAckMs as number).toBeLessThan(1)
    expect(values.secondQuickestTurnMs as number).toBeGreaterThan(40)
    expect(check.evidence.frames.slice(0, 2)).toEqual([1, 2])
    expect(check.hint).toMatch(/^a local proxy such as Prisma Access Agent's answered on this host/)
  })

  it('load-balancer: a device one router away completed the handshake long before any response came', async () => {
    const report = await analyzed('load-balancer')
    const check = answeredBy(report)!
    expect(check).toMatchObject({status: 'warn', confidence: 'inferred'})
    const values = check.evidence.values!
    expect(values).toMatchObject({answeredBy: ['early-handshake'], synAckTtl: 63, synAckRouters: 1, serverTtl: '63'})
    expect(values.synToSynAckMs as number).toBeLessThan(1)
    expect(values.secondQuickestTurnMs as number).toBeGreaterThan(40)
    expect(check.hint).toMatch(/^a load balancer or proxy 1 router from the capture point completed the handshake/)
  })

  it('syn-proxy: the SYN-ACK crossed one router, every server packet carrying data two, and it came long before any response', async () => {
    const report = await analyzed('syn-proxy')
    const check = answeredBy(report)!
    expect(check).toMatchObject({status: 'warn', confidence: 'inferred'})
    const values = check.evidence.values!
    expect(values).toMatchObject({answeredBy: ['early-handshake', 'handshake-elsewhere'], synAckTtl: 63, serverDataTtl: '62', handshakeDeviceRouters: 1, synAckRouters: 1})
    expect(values.synToSynAckMs as number).toBeLessThan(1)
    expect(values.secondQuickestTurnMs as number).toBeGreaterThan(20)
    expect(check.summary).toContain('is not the 62 of the server')
    expect(check.hint).toContain('a SYN proxy, load balancer or firewall 1 router from the capture point completed the handshake')
  })

  it.each(['injected-rst', 'local-proxy', 'load-balancer', 'syn-proxy'])('%s: JSON (schema-valid, facts.answeredBy), table, ladder and HTML show the verdict', async (name) => {
    const report = await analyzed(name)
    const check = answeredBy(report)!
    const json = JSON.parse(renderReport(report, 'json', {color: false, width: PIPED_WIDTH}))
    expect(validateReport(json)).toEqual([])
    expect(json.connections[0].facts.answeredBy.findings.map((finding: {kind: string}) => finding.kind)).toEqual(check.evidence.values!.answeredBy)
    expect(json.connections[0].checks.at(-1).id).toBe('path.answered-by')
    const table = renderReport(report, 'table', {color: false, width: PIPED_WIDTH, timeline: false})
    expect(table).toMatch(/\| path\.answered-by +\| WARN +\| inferred/)
    // The ladder marks the step the verdict is about: the RST, or the SYN-ACK.
    const ladder = renderReport(report, 'table', {color: false, width: PIPED_WIDTH, timeline: true})
    const step = name === 'injected-rst' ? 'RST' : 'SYN-ACK'
    const lines = ladder.split('\n')
    const at = lines.findIndex((line) => line.includes(`-- ${step} --|`) || line.includes(`<-- ${step} --|`))
    expect(at, ladder).toBeGreaterThanOrEqual(0)
    // The step's continuation lines (up to the next timed event) carry the mark.
    const next = lines.findIndex((line, i) => i > at && /^ *\d[\d.]* /.test(line))
    expect(lines.slice(at + 1, next).join('\n')).toContain('-> WARN path.answered-by')
    const html = renderHtml(report)
    expect(html).toContain('path.answered-by')
    expect(html).toContain(check.hint!.slice(0, 40).replaceAll("'", '&#39;'))
  })
})
