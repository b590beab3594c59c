/**
 * Secrets a user hands the CLI or the CLI makes (issue 14 item 7), through the real CLI
 * (bin/dev.js) against a real TLS 1.3 mTLS WebSocket server (test/probe/servers.ts) on
 * 127.0.2.2:22443, with real tcpdump for capture --probe (as root, as test/live/capture.test.ts):
 * - the encrypted key's passphrase from $DEFENDER_CHECK_PASSPHRASE or --passphrase-file, so it
 *   is not in argv for `ps` to show; --passphrase still works and warns;
 * - capture --probe without -w/--keylog leaves no key log behind, on success or failure; a key
 *   log it keeps (--keylog, -w) is named in the report, the table included.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import type {CliResult} from '../helpers/cli.js'
import {ROOT} from '../helpers/paths.js'
import {CERTS, startConsole, type RunningServer} from '../probe/servers.js'

const DEFENDER = join(CERTS, 'defender')
const HOST = '127.0.2.2'
const PORT = 22443
/** Nothing listens here: the probe is refused. */
const CLOSED = 'wss://127.0.2.3:22444/'
const URL = `wss://${HOST}:${PORT}/`
/** The passphrase of fixtures/certs/defender/defender-client-key.pem, as a Defender keeps it. */
const PASSPHRASE = readFileSync(join(DEFENDER, 'service-parameter'), 'utf8')
/** The client certificate and its encrypted key, without --defender-certs (which would read service-parameter). */
const CLIENT = ['--cert', join(DEFENDER, 'defender-client-cert.pem'), '--key', join(DEFENDER, 'defender-client-key.pem')]
const TRUST = ['--servername', 'console.test', '--ca', join(CERTS, 'console-ca.pem'), '--timeout', '5s']

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: '', DEFENDER_CHECK_PASSPHRASE: '', ...env},
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

const statusOf = (report: AnalysisReport, connection: number, id: string) => report.connections[connection]!.checks.find((c) => c.id === id)?.status

/** Every directory a test made: they hold passphrases and key logs, removed at the end. */
const made: string[] = []
const scratch = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

let server: RunningServer
beforeAll(async () => {
  server = await startConsole({host: HOST, port: PORT, requireClientCert: true})
})
afterAll(async () => {
  await server.close()
  for (const dir of made) rmSync(dir, {recursive: true, force: true})
})

describe('the passphrase of an encrypted --key', () => {
  it('comes from $DEFENDER_CHECK_PASSPHRASE: the mTLS probe passes, nothing on stderr', async () => {
    const run = await cli(['probe', URL, ...TRUST, ...CLIENT, '-f', 'json'], {DEFENDER_CHECK_PASSPHRASE: PASSPHRASE})
    expect(run.stderr).toBe('')
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(statusOf(JSON.parse(run.stdout) as AnalysisReport, 0, 'tls.client-certificate')).toBe('pass')
  })

  it('comes from --passphrase-file (its first line; the newline is not part of it), before the environment', async () => {
    const file = join(scratch('defender-check-secrets-'), 'passphrase')
    writeFileSync(file, `${PASSPHRASE}\n`, {mode: 0o600})
    const run = await cli(['probe', URL, ...TRUST, ...CLIENT, '--passphrase-file', file, '-f', 'json'], {DEFENDER_CHECK_PASSPHRASE: 'not-this-one'})
    expect(run.stderr).toBe('')
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(statusOf(JSON.parse(run.stdout) as AnalysisReport, 0, 'tls.client-certificate')).toBe('pass')
  })

  it('--passphrase on the command line still works, with a warning that ps shows it', async () => {
    const run = await cli(['probe', URL, ...TRUST, ...CLIENT, '--passphrase', PASSPHRASE, '-f', 'json'])
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(run.stderr).toBe('defender-check: warning: --passphrase on the command line is visible to every user of this machine (ps); prefer --passphrase-file FILE or $DEFENDER_CHECK_PASSPHRASE\n')
  })

  it('missing: exit 2 naming the ways to give it; wrong (from the environment): exit 2, the wrong one not echoed', async () => {
    const none = await cli(['probe', URL, ...TRUST, ...CLIENT, '-f', 'json'])
    expect(none.status).toBe(2)
    expect(none.stderr).toMatch(/the key is encrypted: give its passphrase with --passphrase-file, \$DEFENDER_CHECK_PASSPHRASE or --passphrase/)
    const wrong = await cli(['probe', URL, ...TRUST, ...CLIENT, '-f', 'json'], {DEFENDER_CHECK_PASSPHRASE: 'Wr0ng-Passphrase-7'})
    expect(wrong.status).toBe(2)
    expect(wrong.stderr).toMatch(/cannot decrypt the key/)
    expect(wrong.stderr + wrong.stdout).not.toContain('Wr0ng-Passphrase-7')
  })
})

describe('capture --probe key logs', () => {
  /** Files the run left in its TMPDIR, apart from tsx's compile cache (bin/dev.js runs through tsx). */
  const leftIn = (dir: string) => readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((name) => !name.startsWith('tsx-'))
  const captureProbe = (url: string, extra: string[], env: NodeJS.ProcessEnv) => cli(['capture', '--probe', url, '--defender-certs', DEFENDER, ...TRUST.slice(0, 2), '--timeout', '3s', ...extra], env)

  it('without -w or --keylog: the wire is decrypted with the probe\'s keys, and no key log is left in the temp directory', async () => {
    const tmp = scratch('defender-check-tmpdir-')
    const run = await captureProbe(URL, ['-f', 'json'], {TMPDIR: tmp})
    expect(run.stderr).toBe('')
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
    const report = JSON.parse(run.stdout) as AnalysisReport
    // Decrypted: the wire's Finished is observed, which needs the key log the run wrote.
    expect(report.connections[1]!.checks.find((c) => c.id === 'tls.finished')).toMatchObject({status: 'pass', confidence: 'observed'})
    expect((report.connections[0]!.facts as {keylogFile?: string}).keylogFile).toBeUndefined()
    expect(report.source.issues.map((i) => i.code)).not.toContain('probe.keylog-kept')
    expect(leftIn(tmp)).toEqual([])
  })

  it('a failed probe leaves none either: the Console refuses a probe without a client certificate after the handshake secrets were logged; a refused connection', async () => {
    const tmp = scratch('defender-check-tmpdir-')
    const rejected = await cli(['capture', '--probe', URL, ...TRUST, '-f', 'json'], {TMPDIR: tmp})
    expect(rejected.status).toBe(1)
    expect(statusOf(JSON.parse(rejected.stdout) as AnalysisReport, 0, 'tls.client-certificate')).toBe('fail')
    const refused = await captureProbe(CLOSED, ['-f', 'json'], {TMPDIR: tmp})
    expect(refused.status).toBe(1)
    expect(statusOf(JSON.parse(refused.stdout) as AnalysisReport, 0, 'tcp.syn-ack')).toBe('fail')
    expect(leftIn(tmp)).toEqual([])
  })

  it('--keylog FILE keeps it, and the table says where; -w FILE keeps FILE.keylog and says so', async () => {
    const dir = scratch('defender-check-kept-')
    const keylog = join(dir, 'probe-keys.log')
    const asked = await captureProbe(URL, ['--keylog', keylog, '-f', 'table', '--no-timeline'], {})
    expect(asked.status, `${asked.stdout}\n${asked.stderr}`).toBe(0)
    expect(readFileSync(keylog, 'utf8')).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /m)
    expect(asked.stdout.replace(/\s+/g, ' ')).toContain(`the probe's TLS secrets are kept in ${keylog} (NSS key log)`)
    const pcap = join(dir, 'probe.pcap')
    const written = await captureProbe(URL, ['-w', pcap, '-f', 'json'], {})
    expect(written.status, `${written.stdout}\n${written.stderr}`).toBe(0)
    expect(existsSync(`${pcap}.keylog`)).toBe(true)
    const issue = (JSON.parse(written.stdout) as AnalysisReport).source.issues.find((i) => i.code === 'probe.keylog-kept')
    expect(issue?.message).toContain(`${pcap}.keylog`)
  })
})
