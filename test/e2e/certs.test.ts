/**
 * `certs DIR` end to end on the directories of fixtures/certs/defender-dirs (made by its make.sh
 * with openssl ca and absolute dates): the verdicts, exit codes and forecasts its README states,
 * judged at the README's date through DEFENDER_CHECK_NOW; the JSON against schema/certs.schema.json;
 * an unreadable directory or file is exit 2 in one line; the passphrase and the key never appear.
 */
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Ajv2020} from 'ajv/dist/2020.js'
import addFormatsPlugin from 'ajv-formats'
import {afterAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {FIXTURES, ROOT} from '../helpers/paths.js'

const DIRS = join(FIXTURES, 'certs', 'defender-dirs')
const NOW = '2026-12-01T00:00:00Z'
const env = {DEFENDER_CHECK_NOW: NOW}

const ajv = new Ajv2020({allErrors: true, strict: true})
addFormatsPlugin.default(ajv)
const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'certs.schema.json'), 'utf8')))

interface Cert {
  role: string
  file: string
  generation?: string
  onPath: boolean
  daysLeft: number
  status: string
  notAfter: string
  reason: string
}
interface Report {
  now: string
  certificates: Cert[]
  key: {encrypted: boolean; matchesCertificate: boolean; status: string}
  chain: {chainsToCurrent: boolean; chainsToOld: boolean | null; generation: string; status: string}
  forecast: {date: string; daysLeft: number; limitedBy: string; line: string}
  verdict: string
}

function certsJson(dir: string, extra: string[] = []): {status: number | null; report: Report; stderr: string} {
  const run = runCli(['certs', join(DIRS, dir), '-f', 'json', ...extra], {env})
  expect(run.stderr).toBe('')
  const report = JSON.parse(run.stdout) as Report
  expect(validate(report), JSON.stringify(validate.errors)).toBe(true)
  return {status: run.status, report, stderr: run.stderr}
}

const cert = (report: Report, file: string): Cert => {
  const found = report.certificates.find((c) => c.file === file)
  expect(found, `${file} in the report`).toBeDefined()
  return found!
}

describe('certs DIR: the verdicts of fixtures/certs/defender-dirs/README.md at 2026-12-01', () => {
  it('healthy: pass, exit 0, key matches, current generation, forecast 2028-06-01', () => {
    const {status, report} = certsJson('healthy')
    expect(status).toBe(0)
    expect(report.now).toBe('2026-12-01T00:00:00.000Z')
    expect(report.verdict).toBe('pass')
    expect(cert(report, 'defender-client-cert.pem')).toMatchObject({role: 'client', generation: 'current', onPath: true, daysLeft: 548, status: 'pass'})
    expect(cert(report, 'defender-ca.pem')).toMatchObject({role: 'ca', daysLeft: 548, status: 'pass'})
    expect(report.key).toMatchObject({encrypted: false, matchesCertificate: true, status: 'pass'})
    expect(report.chain).toMatchObject({chainsToCurrent: true, chainsToOld: null, generation: 'current', status: 'pass'})
    expect(report.forecast.date).toBe('2028-06-01')
    expect(report.forecast.line).toMatch(/^this Defender stops connecting on 2028-06-01 unless it is redeployed/)
  })

  it('warn-client: 60 days left is under --warn-days 90: warn, exit 0', () => {
    const {status, report} = certsJson('warn-client')
    expect(status).toBe(0)
    expect(report.verdict).toBe('warn')
    expect(cert(report, 'defender-client-cert.pem')).toMatchObject({daysLeft: 60, status: 'warn'})
    expect(report.forecast).toMatchObject({date: '2027-01-30', daysLeft: 60})
  })

  it('warn-client passes with --warn-days 60 and fails with --fail-days 61 (the options are the thresholds)', () => {
    expect(certsJson('warn-client', ['--warn-days', '60']).report.verdict).toBe('pass')
    const failing = certsJson('warn-client', ['--fail-days', '61'])
    expect(failing.report.verdict).toBe('fail')
    expect(failing.status).toBe(1)
  })

  it('expiring-ca: the CA has 20 days left (under 30): fail, exit 1, the forecast is the CA\'s date', () => {
    const {status, report} = certsJson('expiring-ca')
    expect(status).toBe(1)
    expect(report.verdict).toBe('fail')
    expect(cert(report, 'defender-ca.pem')).toMatchObject({daysLeft: 20, status: 'fail'})
    expect(cert(report, 'defender-client-cert.pem')).toMatchObject({status: 'pass'})
    expect(report.forecast.date).toBe('2026-12-21')
    expect(report.forecast.limitedBy).toMatch(/^defender-ca\.pem /)
  })

  it('expired-client: expired 30 days ago: fail, exit 1, negative days, "cannot connect"', () => {
    const {status, report} = certsJson('expired-client')
    expect(status).toBe(1)
    expect(cert(report, 'defender-client-cert.pem')).toMatchObject({daysLeft: -30, status: 'fail'})
    expect(report.forecast.line).toBe('this Defender cannot connect: defender-client-cert.pem (CN=defender-expired) expired on 2026-11-01; redeploy it')
  })

  it('rotated: the client is on the new CA; the .old CA (60 days) and old client certificate are listed, off the path: pass', () => {
    const {status, report} = certsJson('rotated')
    expect(status).toBe(0)
    expect(report.verdict).toBe('pass')
    expect(report.chain).toMatchObject({chainsToCurrent: true, chainsToOld: false, generation: 'current'})
    expect(cert(report, 'defender-ca.pem.old')).toMatchObject({role: 'ca-old', generation: 'old', onPath: false, daysLeft: 60, status: 'pass'})
    expect(cert(report, 'defender-client-cert.pem.old')).toMatchObject({role: 'client-old', generation: 'old', onPath: false})
    expect(report.forecast.date).toBe('2029-07-15')
  })

  it('not-redeployed: the client certificate is the old CA\'s (defender-ca.old): old generation, warn, forecast the old CA\'s expiry', () => {
    const {status, report} = certsJson('not-redeployed')
    expect(status).toBe(0)
    expect(report.verdict).toBe('warn')
    expect(report.chain).toMatchObject({chainsToCurrent: false, chainsToOld: true, generation: 'old', status: 'pass'})
    expect(cert(report, 'defender-client-cert.pem')).toMatchObject({generation: 'old'})
    expect(cert(report, 'defender-ca.old')).toMatchObject({role: 'ca-old', onPath: true, daysLeft: 60, status: 'warn'})
    expect(report.forecast.date).toBe('2027-01-30')
    expect(report.forecast.limitedBy).toMatch(/^defender-ca\.old /)
  })

  it('rotated judged at 2026-07-01, before the new CA and client certificate start: fail, "not valid before", a wrong clock named as one cause', () => {
    const run = runCli(['certs', join(DIRS, 'rotated'), '-f', 'json'], {env: {DEFENDER_CHECK_NOW: '2026-07-01T00:00:00Z'}})
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout) as Report
    const client = report.certificates.find((c) => c.file === 'defender-client-cert.pem')!
    expect(client.status).toBe('fail')
    expect(client.reason).toBe('not valid before 2026-07-15T00:00:00.000Z (14 days from now): a wrong clock on this host or the Console is one cause')
    expect(report.verdict).toBe('fail')
  })

  it('mismatched-key: the key is another certificate\'s: fail, exit 1', () => {
    const {status, report} = certsJson('mismatched-key')
    expect(status).toBe(1)
    expect(report.key).toMatchObject({matchesCertificate: false, status: 'fail'})
    expect(report.verdict).toBe('fail')
  })

  it('encrypted-key: decrypted with service-parameter: pass; neither the passphrase nor key bytes in any output (json, table, --json)', () => {
    const {status, report} = certsJson('encrypted-key')
    expect(status).toBe(0)
    expect(report.key).toMatchObject({encrypted: true, matchesCertificate: true, status: 'pass'})
    const passphrase = readFileSync(join(DIRS, 'encrypted-key', 'service-parameter'), 'utf8')
    const keyBody = readFileSync(join(DIRS, 'encrypted-key', 'defender-client-key.pem'), 'utf8').split('\n').filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line))
    expect(passphrase.length).toBeGreaterThan(10)
    expect(keyBody.length).toBeGreaterThan(5)
    const outputs = [['-f', 'json'], ['-f', 'table'], ['--json']].map((flags) => runCli(['certs', join(DIRS, 'encrypted-key'), ...flags], {env}))
    for (const run of outputs) {
      expect(run.status).toBe(0)
      for (const text of [run.stdout, run.stderr]) {
        expect(text).not.toContain(passphrase)
        expect(text).not.toMatch(/PRIVATE KEY/)
        for (const line of keyBody) expect(text).not.toContain(line)
      }
    }
  })
})

describe('certs DIR: table, errors', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'defender-check-certs-'))
  afterAll(() => rmSync(scratch, {recursive: true, force: true}))

  it('-f table names every file, the verdict and the forecast line', () => {
    const run = runCli(['certs', join(DIRS, 'expiring-ca'), '-f', 'table'], {env})
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(/^FAIL {2}defender-ca\.pem {2}CA, current CA generation$/m)
    expect(run.stdout).toContain('20 days left, under --fail-days 30')
    expect(run.stdout).toContain('Forecast: this Defender stops connecting on 2026-12-21 unless it is redeployed')
    expect(run.stdout).toMatch(/^Verdict: FAIL$/m)
  })

  it('a missing directory, a missing file, a wrong passphrase: exit 2, one line naming the file, no passphrase', () => {
    const missingDir = runCli(['certs', join(scratch, 'nowhere')], {env})
    expect(missingDir.status).toBe(2)
    expect(missingDir.stderr).toBe(`defender-check: ${join(scratch, 'nowhere')}: cannot read the Defender certificate directory: ENOENT\n`)

    const noKey = join(scratch, 'no-key')
    cpSync(join(DIRS, 'healthy'), noKey, {recursive: true})
    rmSync(join(noKey, 'defender-client-key.pem'))
    const missingKey = runCli(['certs', noKey], {env})
    expect(missingKey.status).toBe(2)
    expect(missingKey.stderr).toBe(`defender-check: ${join(noKey, 'defender-client-key.pem')}: cannot read defender-client-key.pem: ENOENT\n`)

    const wrong = join(scratch, 'wrong-passphrase')
    cpSync(join(DIRS, 'encrypted-key'), wrong, {recursive: true})
    writeFileSync(join(wrong, 'service-parameter'), 'not-the-passphrase-42')
    const run = runCli(['certs', wrong], {env})
    expect(run.status).toBe(2)
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(run.stderr).toMatch(/defender-client-key\.pem: cannot decrypt the key: wrong passphrase/)
    expect(run.stderr + run.stdout).not.toContain('not-the-passphrase-42')

    const garbage = join(scratch, 'garbage-ca')
    cpSync(join(DIRS, 'healthy'), garbage, {recursive: true})
    writeFileSync(join(garbage, 'defender-ca.pem'), 'not a certificate\n')
    const bad = runCli(['certs', garbage], {env})
    expect(bad.status).toBe(2)
    expect(bad.stderr).toBe(`defender-check: ${join(garbage, 'defender-ca.pem')}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it\n`)
  })

  it('a DEFENDER_CHECK_NOW that is not a date is a usage error (exit 2)', () => {
    const run = runCli(['certs', join(DIRS, 'healthy')], {env: {DEFENDER_CHECK_NOW: 'yesterday'}})
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/DEFENDER_CHECK_NOW "yesterday": expected an ISO-8601 date/)
  })
})
