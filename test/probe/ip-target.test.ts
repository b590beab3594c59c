/**
 * The probe aimed at an IP address (issue 15): a real mTLS WebSocket Console (node:https + ws,
 * test/probe/servers.ts) on 127.0.4.1 whose certificate carries `IP Address:127.0.4.1`
 * (fixtures/certs/console-ip-server.pem). No SNI is sent for an IP literal (RFC 6066 §3), and the
 * certificate is verified against the IP SANs, as curl and `openssl s_client -verify_ip` do.
 * Before the fix node's own check compared the certificate with "localhost" (a TLS socket over an
 * existing socket without `host`), and the probe reported that as an untrusted chain.
 */
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import type {CheckResult} from '../../src/model/checks.js'
import {probeConsole, type ProbeInput} from '../../src/probe/index.js'
import type {ProbeFacts} from '../../src/model/probe.js'
import {ROOT} from '../helpers/paths.js'
import {CERTS, startConsole, type RunningServer} from './servers.js'

const IP = '127.0.4.1'
/** Another loopback address (every 127/8 address is local): the certificate does not carry it. */
const OTHER_IP = '127.0.4.2'
const PORT = 24084
const credentials = {ca: join(CERTS, 'console-ca.pem'), cert: join(CERTS, 'defender-client.pem'), key: join(CERTS, 'defender-client.key')}

function check(report: AnalysisReport, id: string): CheckResult {
  return report.connections[0].checks.find((c) => c.id === id)!
}
const handshakeOf = (report: AnalysisReport) => (report.connections[0].facts as unknown as ProbeFacts).handshake

describe('probe of an IP target, verified against the certificate\'s IP SANs', () => {
  let ipServer: RunningServer
  let nameOnlyServer: RunningServer
  const probe = (host: string, port: number, extra: Partial<ProbeInput> = {}) => probeConsole({url: `wss://${host}:${port}/ws`, timeoutMs: 5000, env: {}, ...credentials, ...extra})

  beforeAll(async () => {
    ipServer = await startConsole({host: IP, port: PORT, requireClientCert: true, serverCert: 'console-ip-server'})
    // console-server.pem names console.test and 127.0.0.10-30, not 127.0.4.2.
    nameOnlyServer = await startConsole({host: OTHER_IP, port: PORT, requireClientCert: true})
  })
  afterAll(async () => {
    await ipServer.close()
    await nameOnlyServer.close()
  })

  it('passes: chain trusted by --ca, IP 127.0.4.1 on the certificate, no SNI sent', async () => {
    const report = await probe(IP, PORT)
    const hs = handshakeOf(report)!
    expect(hs).toMatchObject({chainVerified: true, peerCertificate: {subject: 'O=defender-check test, CN=console-ip.test'}})
    expect(hs.chainError).toBeUndefined()
    expect(hs.nameError).toBeUndefined()
    expect(hs.servername).toBeUndefined()
    const tls = check(report, 'tls.certificate')
    expect(tls.status).toBe('pass')
    expect(tls.summary).toContain(`IP address ${IP} matches`)
    expect(Object.fromEntries(report.connections[0].checks.map((c) => [c.id, c.status]))).toMatchObject({'tls.client-certificate': 'pass', 'tls.finished': 'pass', 'ws.upgrade': 'pass', 'ws.ping': 'pass'})
    expect(report.summary.verdict).toBe('pass')
  })

  it('a certificate without the IP: a name mismatch, with the chain trusted — never "chain not trusted"', async () => {
    const report = await probe(OTHER_IP, PORT)
    const hs = handshakeOf(report)!
    expect(hs.chainVerified).toBe(true)
    expect(hs.nameError).toContain(`IP: ${OTHER_IP} is not in the cert's list`)
    const tls = check(report, 'tls.certificate')
    expect(tls.status).toBe('fail')
    expect(tls.summary).toContain(`name mismatch: IP address ${OTHER_IP} is not on the certificate`)
    expect(tls.summary).not.toContain('chain not trusted')
    expect(tls.hint).toContain(`IP:${OTHER_IP}`)
    expect(tls.hint).not.toContain('is not a CA')
    expect(report.summary.verdict).toBe('fail')
  })

  it('an untrusted chain with the IP on the certificate: a chain problem only', async () => {
    const report = await probe(IP, PORT, {ca: join(CERTS, 'proxy-ca.pem')})
    const tls = check(report, 'tls.certificate')
    expect(handshakeOf(report)).toMatchObject({chainVerified: false, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'})
    expect(handshakeOf(report)!.nameError).toBeUndefined()
    expect(tls.summary).toContain('chain not trusted by')
    expect(tls.summary).not.toContain('name mismatch')
    expect(tls.hint).toContain('is not a CA in')
  })

  it('the CLI as in the issue: `probe wss://127.0.4.1:PORT/ws --ca --cert --key` exits 0 with tls.certificate pass', async () => {
    const run = await new Promise<{status: number | null; stdout: string; stderr: string}>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), 'probe', `wss://${IP}:${PORT}/ws`, '--ca', credentials.ca, '--cert', credentials.cert, '--key', credentials.key, '--format', 'json'], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: '', https_proxy: ''}})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('close', (status) => resolve({status, stdout, stderr}))
    })
    expect(run.stderr).toBe('')
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(check(report, 'tls.certificate')).toMatchObject({status: 'pass', confidence: 'observed'})
    expect(run.status).toBe(0)
  })
})
