import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
/**
 * End to end, as in CI (.ci/run installs tcpdump; the tests run as root): the real CLI
 * (bin/dev.js) in a subprocess, real tcpdump, a real TLS 1.3 WebSocket server on 127.0.0.1:8084
 * requiring the Defender's client certificate. The CLI runs asynchronously: the server lives in
 * this process and must keep answering.
 */
import {execFileSync, spawn} from 'node:child_process'
import {readFileSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import {ROOT} from '../helpers/paths.js'
import {requireTool} from '../helpers/tools.js'
import {CERTS, startConsole, startProxy, type RunningServer} from '../probe/servers.js'

const DEFENDER = join(CERTS, 'defender')
const URL_8084 = 'wss://127.0.0.1:8084/'

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: '', ...env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

const captureProbe = (extra: string[]) => cli(['capture', '--probe', URL_8084, '--servername', 'console.test', '--format', 'json', '--timeout', '3s', ...extra])

function byId(report: AnalysisReport, connection: number): Record<string, {status: string; confidence: string}> {
  return Object.fromEntries(report.connections[connection].checks.map((c) => [c.id, {status: c.status, confidence: c.confidence}]))
}

// The tests here run the real tcpdump: without it they fail at once, naming the install command.
beforeAll(() => requireTool('tcpdump'))

describe('capture --probe (tcpdump + probe + analysis)', () => {
  let server: RunningServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('every check of the probe passes, observed, and the wire shows the same connection passing', async () => {
    server = await startConsole({port: 8084, requireClientCert: true})
    const dir = mkdtempSync(join(tmpdir(), 'defender-check-live-'))
    const pcap = join(dir, 'probe.pcap')
    const run = await captureProbe(['--defender-certs', DEFENDER, '-w', pcap])
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(report.source).toMatchObject({kind: 'live', name: 'any', capture: {format: 'pcap', linkTypes: [276]}})
    expect(report.connections).toHaveLength(2)
    const probe = report.connections[0].checks
    // clock.skew is skipped: ws writes no Date header on its 101, so there is no clock to compare.
    expect(probe.filter((c) => c.id !== 'dns.resolve' && c.id !== 'clock.skew').every((c) => c.status === 'pass' && c.confidence === 'observed')).toBe(true)
    expect(probe.find((c) => c.id === 'clock.skew')).toMatchObject({status: 'skip', summary: expect.stringContaining('has no Date header')})
    expect(probe.map((c) => c.id)).toEqual(['dns.resolve', 'tcp.syn-ack', 'tls.version', 'tls.certificate', 'tls.client-certificate', 'certs.requested-ca', 'tls.finished', 'tls.alerts', 'certs.lifetime', 'ws.upgrade', 'clock.skew', 'ws.ping'])
    // The wire view is of the probe's own 4-tuple.
    expect(report.connections[1].client).toEqual(report.connections[0].client)
    const wire = byId(report, 1)
    // Decrypted with the probe's own key log: the wire-level proof is read, not inferred.
    for (const id of ['tcp.syn', 'tcp.syn-ack', 'tcp.ack', 'tls.client-hello', 'tls.server-hello', 'tls.version', 'tls.certificate', 'tls.client-certificate', 'tls.finished', 'tls.alerts']) {
      expect(wire[id], id).toEqual({status: 'pass', confidence: 'observed'})
    }
    const wireFacts = report.connections[1].facts as unknown as {tls: {decryption: {keys: string; failures: number}; finished: {client: {verified: boolean}; server: {verified: boolean}}}}
    expect(wireFacts.tls.decryption).toMatchObject({keys: 'found', failures: 0})
    expect([wireFacts.tls.finished.client.verified, wireFacts.tls.finished.server.verified]).toEqual([true, true])
    expect(report.summary.verdict).toBe('pass')
    // The saved capture is pcapng with the probe's keys in a Decryption Secrets Block: tshark
    // decrypts it with no key log option and reads the server's CertificateRequest (13), the
    // client's Certificate (11), the 101 and the ping; our own analyze does too, every check observed.
    const keylog = (report.connections[0].facts as unknown as {keylogFile: string}).keylogFile
    expect(keylog).toBe(`${pcap}.keylog`)
    expect(readFileSync(pcap).readUInt32LE(0)).toBe(0x0a0d0d0a)
    requireTool('tshark')
    const fields = execFileSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'tls.handshake.type', '-e', 'http.response.code', '-e', 'websocket.opcode'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    const types = fields.split('\n').flatMap((line) => line.split('\t')[0].split(',')).filter(Boolean)
    expect(types).toEqual(expect.arrayContaining(['1', '2', '8', '13', '11', '15', '20']))
    expect(fields.split('\n').some((line) => line.split('\t')[1] === '101')).toBe(true)
    expect(fields.split('\n').some((line) => line.split('\t')[2] === '9')).toBe(true)
    const saved = await analyzeCapture(pcap, {policy: buildPolicy({})})
    expect(saved.source.keys?.decryptionSecretsBlocks).toBe(1)
    expect(saved.connections).toHaveLength(1)
    for (const check of saved.connections[0].checks.filter((c) => c.id.startsWith('tls.') || c.id.startsWith('ws.'))) {
      expect({id: check.id, confidence: check.confidence}).toEqual({id: check.id, confidence: 'observed'})
    }
  })

  it('nothing listening: tcp.syn-ack fails in both views (the wire sees the RST)', async () => {
    const run = await captureProbe(['--defender-certs', DEFENDER])
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(byId(report, 0)['tcp.syn-ack'].status).toBe('fail')
    expect(byId(report, 1)['tcp.syn-ack']).toEqual({status: 'fail', confidence: 'observed'})
    expect(report.connections[1].checks.find((c) => c.id === 'tcp.syn-ack')!.summary).toContain('RST')
  })

  it('wrong CA: tls.certificate fails', async () => {
    server = await startConsole({port: 8084, requireClientCert: true})
    const run = await captureProbe(['--defender-certs', DEFENDER, '--ca', join(CERTS, 'proxy-ca.pem')])
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(byId(report, 0)['tls.certificate'].status).toBe('fail')
    expect(report.connections[0].checks.find((c) => c.id === 'tls.certificate')!.summary).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('no client certificate: tls.client-certificate fails in both views, read from the decrypted wire', async () => {
    server = await startConsole({port: 8084, requireClientCert: true})
    const run = await captureProbe(['--ca', join(CERTS, 'console-ca.pem')])
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(byId(report, 0)['tls.client-certificate'].status).toBe('fail')
    expect(byId(report, 0)['tls.alerts'].status).toBe('fail')
    expect(byId(report, 1)['tls.client-certificate']).toEqual({status: 'fail', confidence: 'observed'})
  })

  it('upgrade answered 403: ws.upgrade fails', async () => {
    server = await startConsole({port: 8084, refuseUpgrade: 403})
    const run = await captureProbe(['--defender-certs', DEFENDER])
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(byId(report, 0)['ws.upgrade'].status).toBe('fail')
    expect(byId(report, 0)['tls.finished'].status).toBe('pass')
  })

  it('probe through a proxy that refuses CONNECT: proxy.connect fails, exit 1', async () => {
    server = await startConsole({port: 8084, requireClientCert: true})
    const proxy = await startProxy({refuse: 403})
    try {
      const run = await cli(['probe', URL_8084, '--servername', 'console.test', '--defender-certs', DEFENDER, '--format', 'json'], {HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`})
      expect(run.status).toBe(1)
      const report = JSON.parse(run.stdout) as AnalysisReport
      expect(byId(report, 0)['proxy.connect'].status).toBe('fail')
      expect(proxy.requests).toEqual(['CONNECT 127.0.0.1:8084'])
    } finally {
      await proxy.close()
    }
  })
})

describe('capture: start-up failures are one line and exit code 2', () => {
  it('an interface that does not exist', async () => {
    const run = await cli(['capture', '-i', 'nosuchif0', '--duration', '1s'])
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/^defender-check: interface nosuchif0 does not exist/)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('tcpdump missing from PATH names the install command', async () => {
    const run = await cli(['capture', '--duration', '1s'], {PATH: '/nonexistent'})
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/^defender-check: tcpdump is not installed .*apt-get install tcpdump/)
  })

  it('a filter tcpdump rejects', async () => {
    const run = await cli(['capture', '--filter', 'tcp and and', '--duration', '1s'])
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/^defender-check: tcpdump rejects the filter/)
  })
})

describe('capture without --probe', () => {
  it('captures for --duration on lo and analyses the Console connections it saw', async () => {
    const server = await startConsole({port: 8084, requireClientCert: true})
    try {
      const running = cli(['capture', '-i', 'lo', '--duration', '3s', '--format', 'json'])
      // The probe connects while the capture runs (tcpdump is listening within ~1 s of start-up).
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const probe = await cli(['probe', URL_8084, '--servername', 'console.test', '--defender-certs', DEFENDER, '--format', 'json'])
      expect(probe.status).toBe(0)
      const run = await running
      expect(run.status).toBe(0)
      const report = JSON.parse(run.stdout) as AnalysisReport
      const probed = (JSON.parse(probe.stdout) as AnalysisReport).connections[0].client
      expect(report.source).toMatchObject({kind: 'live', name: 'lo', capture: {linkTypes: [1]}})
      expect(report.connections.map((c) => c.client)).toContainEqual(probed)
    } finally {
      await server.close()
    }
  })
})
