/**
 * The per-Defender view and channel.stability on the fleet fixtures (issue 18): every row of each
 * fixture's README "Expected per-Defender rows" table, read from the README (what the scenario
 * must give, written before the output), checked against the CLI's JSON; the JSON validates
 * against the schema; the table prints the Defenders section; and the misread the issue names
 * (a relay's idle cut read as a refused upgrade) stays fixed.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {validateReport} from '../../src/report/schema.js'
import type {CaptureReport} from '../../src/model/report.js'
import type {DefenderReport} from '../../src/model/defenders.js'
import {runCli} from '../helpers/cli.js'
import {ROOT} from '../helpers/paths.js'

const FIXTURE = join('fixtures', 'fleet', 'console-relay')
const RUNS: Record<string, string[]> = {
  'no keys': ['--stopped-after', '5s'],
  keys: ['--stopped-after', '5s', '--keylog', join(FIXTURE, 'keys.log')],
  defaults: [],
}

interface ExpectedRow {
  run: string
  key: string
  connections: string
  established: string
  endings: string
  stability: string
  finding: string
}

/** The README's expected rows: the markdown table whose header starts `| run | Defender`. */
function expectedRows(readme: string): ExpectedRow[] {
  const lines = readme.split('\n')
  const head = lines.findIndex((line) => line.startsWith('| run | Defender'))
  expect(head, 'README has the expected-rows table').toBeGreaterThan(0)
  const rows: ExpectedRow[] = []
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break
    const [run, key, connections, established, endings, stability, finding] = line.split('|').slice(1, -1).map((cell) => cell.trim())
    rows.push({run: run!, key: key!, connections: connections!, established: established!, endings: endings!, stability: stability!, finding: finding!})
  }
  return rows
}

/** `N` exactly or `>=N`. */
function expectCount(actual: number, expected: string, what: string): void {
  const at = /^>=(\d+)$/.exec(expected)
  if (at) expect(actual, what).toBeGreaterThanOrEqual(Number(at[1]))
  else expect(actual, what).toBe(Number(expected))
}

const reports = new Map<string, CaptureReport>()
function analyzed(run: string): CaptureReport {
  let report = reports.get(run)
  if (report === undefined) {
    // To a file: with keys the report (decrypted facts of 34 connections) passes spawnSync's 1 MB stdout buffer.
    const out = join(mkdtempSync(join(tmpdir(), 'dc2-defenders-')), 'report.json')
    const result = runCli(['analyze', join(FIXTURE, 'capture.pcap'), '--format', 'json', '-o', out, ...RUNS[run]!])
    // The one line allowed: git does not keep the key log's mode, so it may be world-readable here.
    expect(result.stderr.split('\n').filter((line) => line !== '' && !line.includes('is readable by every user'))).toEqual([])
    expect(result.status).toBe(1)
    report = JSON.parse(readFileSync(out, 'utf8')) as CaptureReport
    rmSync(dirname(out), {recursive: true, force: true})
    reports.set(run, report)
  }
  return report
}

describe('fixtures/fleet/console-relay: the README rows', () => {
  const rows = expectedRows(readFileSync(join(ROOT, FIXTURE, 'README.md'), 'utf8'))

  it('lists every run and every Defender of the scenario', () => {
    expect(rows.filter((r) => r.run === 'no keys')).toHaveLength(7)
    expect(rows.filter((r) => r.run === 'keys')).toHaveLength(8)
    expect(new Set(rows.map((r) => r.run))).toEqual(new Set(Object.keys(RUNS)))
  })

  for (const row of rows) {
    it(`${row.run}: ${row.key} → channel.stability ${row.stability}`, () => {
      const view = analyzed(row.run).defenders
      expect(view).toBeDefined()
      const defender = view!.defenders.find((d) => d.identity.key === row.key) as DefenderReport | undefined
      expect(defender, `Defender ${row.key} among ${view!.defenders.map((d) => d.identity.key).join(' | ')}`).toBeDefined()
      expectCount(defender!.connections, row.connections, 'connections')
      expect(defender!.reconnects).toBe(defender!.connections - 1)
      // The sessions kept (at most 32): every one here, the fixture is small.
      expect(defender!.sessions).toHaveLength(defender!.connections)
      expectCount(defender!.sessions.filter((s) => s.established).length, row.established, 'established sessions')
      for (const ending of row.endings === '' ? [] : row.endings.split(',')) {
        const [, by, reason, op, n] = /^\s*(\w+)\/([\w-]+)(>=|=)(\d+)\s*$/.exec(ending)!
        const count = defender!.endings.find((e) => e.by === by && e.reason === reason)?.count ?? 0
        expectCount(count, `${op === '>=' ? '>=' : ''}${n}`, `endings ${by}/${reason}`)
      }
      const check = defender!.checks.find((c) => c.id === 'channel.stability')
      expect(check?.status, check?.summary).toBe(row.stability)
      expect(check!.summary).toContain(row.finding)
      if (row.stability === 'fail' || row.stability === 'warn') expect(check!.hint).toBeTruthy()
      expect(['observed', 'inferred']).toContain(check!.confidence)
      // The Defender's verdict is at least as bad as its stability.
      if (row.stability === 'fail') expect(defender!.verdict).toBe('fail')
    })
  }

  it('no Defender appears that the README does not list', () => {
    for (const run of Object.keys(RUNS).filter((r) => r !== 'defaults')) {
      const listed = new Set(rows.filter((r) => r.run === run).map((r) => r.key))
      expect(analyzed(run).defenders!.defenders.map((d) => d.identity.key).sort()).toEqual([...listed].sort())
    }
  })

  it('the JSON validates against schema/report.schema.json, with the thresholds used', () => {
    for (const run of Object.keys(RUNS)) expect(validateReport(analyzed(run))).toEqual([])
    expect(analyzed('no keys').defenders!.thresholds).toEqual({stormAttempts: 10, stormWindowSeconds: 60, idleCutSessions: 3, stoppedAfterSeconds: 5})
    expect(analyzed('no keys').policy.stability?.stoppedAfterSeconds).toBe(5)
    // Without a stability flag the policy says nothing of them (a report's policy is as it was).
    expect(analyzed('defaults').policy.stability).toBeUndefined()
    expect(analyzed('defaults').defenders!.overflow).toBe(0)
  })

  it('the flapping Defender: lifetimes, gaps and idle times of its cut sessions', () => {
    const flapping = analyzed('no keys').defenders!.defenders.find((d) => d.identity.clientIp === '127.0.2.12')!
    const cut = flapping.sessions.filter((s) => s.end.reason === 'rst')
    for (const session of cut) {
      expect(session.end.by).toBe('server')
      expect(session.idleBeforeEndSeconds).toBeGreaterThanOrEqual(1.4)
      expect(session.idleBeforeEndSeconds).toBeLessThan(1.8)
    }
    expect(flapping.sessionLifetime!.min).toBeGreaterThanOrEqual(1.5)
    expect(flapping.sessionLifetime!.count).toBe(cut.length)
    // Reconnects 0.3 s after each cut.
    expect(flapping.reconnectGap!.min).toBeGreaterThanOrEqual(0.29)
    expect(flapping.reconnectGap!.max).toBeLessThan(1)
  })
})

describe('issue 18 misread: a relay cutting idle wss sessions is not a refused upgrade', () => {
  it('without keys, no cut session of the flapping Defender is ws.upgrade FAIL "refused"', () => {
    const report = analyzed('no keys')
    const flapping = report.connections.filter((c) => c.client.ip === '127.0.2.12' && c.facts.tcp.rst.length > 0)
    expect(flapping.length).toBeGreaterThanOrEqual(3)
    for (const connection of flapping) {
      const upgrade = connection.checks.find((c) => c.id === 'ws.upgrade')!
      expect(upgrade.status, upgrade.summary).toBe('warn')
      expect(upgrade.confidence).toBe('inferred')
      expect(upgrade.summary).not.toContain('refused upgrade (e.g. 403')
      expect(upgrade.summary).toContain('not a refusal')
    }
  })

  it('the storm\'s 403s, closed at once, are still read as refusals', () => {
    const storm = analyzed('no keys').connections.filter((c) => c.client.ip === '127.0.2.13')
    expect(storm.length).toBeGreaterThanOrEqual(20)
    for (const connection of storm) {
      const upgrade = connection.checks.find((c) => c.id === 'ws.upgrade')!
      expect(upgrade.status, upgrade.summary).toBe('fail')
      expect(upgrade.summary).toContain('likely a refused upgrade')
    }
  })
})

describe('the table\'s Defenders section', () => {
  it('counts Defenders per verdict and lists the worst first, every one with --all', () => {
    const table = runCli(['analyze', join(FIXTURE, 'capture.pcap'), '--format', 'table', '--stopped-after', '5s'])
    expect(table.stdout).toContain('Defenders: 7 (3 fail, 1 warn, 3 pass)')
    const section = table.stdout.slice(table.stdout.indexOf('Defenders: 7'))
    const titles = section.split('\n').filter((line) => /^(FAIL|WARN|PASS|SKIP|INCONCLUSIVE) \d/.test(line))
    expect(titles).toHaveLength(7)
    expect(titles.slice(0, 3).every((t) => t.startsWith('FAIL'))).toBe(true)
    expect(titles[3]).toMatch(/^WARN 127\.0\.2\.17/)
    expect(section).toContain('channel.stability FAIL (observed): reconnect storm')
    expect(section).toContain('-> hint: find the idle timeout of about 1.5 s')
  })
})

describe('the stability thresholds as flags', () => {
  it('a bad value is a usage error: one line, exit code 2', () => {
    for (const args of [['--storm-window', 'soon'], ['--stopped-after', '0s'], ['--storm-attempts', '0']]) {
      const result = runCli(['analyze', join(FIXTURE, 'capture.pcap'), ...args])
      expect(result.status, args.join(' ')).toBe(2)
      expect(result.stderr.trim().split('\n')[0]).toMatch(new RegExp(`${args[0]}`))
      expect(result.stdout).toBe('')
    }
  })
})

describe('refinement by the client certificate', () => {
  it('TLS 1.2 sends it in clear: without keys the Defender is told by its subject and fingerprint (fixtures/tls/openssl12-mtls)', () => {
    const result = runCli(['analyze', join('fixtures', 'tls', 'openssl12-mtls', 'capture.pcap'), '--format', 'json'])
    const report = JSON.parse(result.stdout) as CaptureReport
    expect(report.connections[0]!.facts.tls?.decryption?.keys).toBe('none')
    const [defender] = report.defenders!.defenders
    expect(defender!.identity).toMatchObject({key: '127.0.0.1 CN=defender-test,O=defender-check test sni=console.test', certificateSubject: 'CN=defender-test,O=defender-check test', sni: 'console.test'})
    expect(defender!.identity.certificateFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(validateReport(report)).toEqual([])
  })
})
