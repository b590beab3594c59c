/**
 * The probe against real peers (test/probe/servers.ts): node:https + ws with the fixture PKI, an
 * HTTP CONNECT proxy, a port with nothing listening, a TCP server that never speaks TLS.
 */
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {createServer, type AddressInfo, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import type {CheckResult} from '../../src/model/checks.js'
import {probeConsole, type ProbeInput} from '../../src/probe/index.js'
import type {ProbeFacts} from '../../src/model/probe.js'
import {CERTS, startConsole, startProxy, type RunningServer} from './servers.js'

const DEFENDER = join(CERTS, 'defender')

function statuses(report: AnalysisReport): Record<string, string> {
  return Object.fromEntries(report.connections[0].checks.map((c) => [c.id, c.status]))
}
function check(report: AnalysisReport, id: string): CheckResult {
  return report.connections[0].checks.find((c) => c.id === id)!
}
function factsOf(report: AnalysisReport): ProbeFacts {
  return report.connections[0].facts as unknown as ProbeFacts
}

describe('probe', () => {
  let mtls: RunningServer
  let refusing: RunningServer
  const base = (port: number, extra: Partial<ProbeInput> = {}): ProbeInput => ({url: `wss://127.0.0.1:${port}/`, servername: 'console.test', timeoutMs: 3000, defenderCerts: DEFENDER, env: {}, ...extra})

  beforeAll(async () => {
    mtls = await startConsole({requireClientCert: true})
    refusing = await startConsole({refuseUpgrade: 403})
  })
  afterAll(async () => {
    await mtls.close()
    await refusing.close()
  })

  it('passes every phase against a TLS 1.3 mTLS WebSocket server, and writes the key log', async () => {
    const keylogFile = join(mkdtempSync(join(tmpdir(), 'defender-check-probe-')), 'keys.log')
    const report = await probeConsole(base(mtls.port, {holdMs: 400, keylogFile}))
    expect(statuses(report)).toEqual({
      'dns.resolve': 'skip',
      'tcp.syn-ack': 'pass',
      'tls.version': 'pass',
      'tls.certificate': 'pass',
      'tls.client-certificate': 'pass',
      // The Console asks for the Defender CA's certificates (node:tls lists its `ca` in the CertificateRequest).
      'certs.requested-ca': 'pass',
      'tls.finished': 'pass',
      'tls.alerts': 'pass',
      // The fixture PKI is valid until 2046.
      'certs.lifetime': 'pass',
      'ws.upgrade': 'pass',
      // ws writes no Date header on its 101: nothing to compare.
      'clock.skew': 'skip',
      'ws.ping': 'pass',
      'ws.session': 'pass',
    })
    expect(report.connections[0].checks.every((c) => c.confidence === 'observed' && c.evidence.frames.length === 0)).toBe(true)
    expect(report.summary.verdict).toBe('pass')
    expect(report.source.kind).toBe('probe')
    const facts = factsOf(report)
    expect(facts.handshake).toMatchObject({version: 'TLSv1.3', clientCertificateRequested: true, chainVerified: true, peerCertificate: {subject: 'O=defender-check test, CN=console.test'}})
    expect(facts.upgrade?.status).toBe(101)
    expect(facts.closeCode).toBe(1000)
    expect(facts.session!.pongs).toBe(facts.session!.pings)
    expect(facts.session!.pings).toBeGreaterThan(0)
    expect(report.connections[0].client).toEqual(facts.tcp.local)
    // NSS key log (TLS 1.3 labels, RFC 8446 §7.1 secrets): one line per secret, this connection's client_random.
    const lines = readFileSync(keylogFile, 'utf8').trim().split('\n')
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0'])
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(1)
  })

  it('without a client certificate: the server asked, answered certificate_required, and that is what fails', async () => {
    const report = await probeConsole(base(mtls.port, {defenderCerts: undefined, ca: join(CERTS, 'console-ca.pem')}))
    expect(statuses(report)).toMatchObject({'tls.certificate': 'pass', 'tls.client-certificate': 'fail', 'tls.alerts': 'fail', 'ws.upgrade': 'skip', 'ws.ping': 'skip'})
    expect(factsOf(report).handshake?.alert).toEqual({description: 116, name: 'certificate_required', during: 'ws.upgrade'})
    expect(check(report, 'tls.alerts').summary).toContain('certificate_required (116)')
    expect(report.summary.verdict).toBe('fail')
  })

  it('a CA that did not issue the Console certificate fails tls.certificate with OpenSSL\'s error by name', async () => {
    const report = await probeConsole(base(mtls.port, {ca: join(CERTS, 'proxy-ca.pem')}))
    expect(statuses(report)).toMatchObject({'tls.certificate': 'fail', 'ws.upgrade': 'skip'})
    expect(factsOf(report).handshake?.chainError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    expect(check(report, 'tls.certificate').summary).toContain('CN=Console CA')
    expect(check(report, 'ws.upgrade').summary).toBe('not attempted: the server certificate was rejected (see tls.certificate)')
  })

  it('--insecure turns the certificate failure into a warning and goes on', async () => {
    const report = await probeConsole(base(mtls.port, {ca: join(CERTS, 'proxy-ca.pem'), insecure: true}))
    expect(statuses(report)).toMatchObject({'tls.certificate': 'warn', 'ws.upgrade': 'pass', 'ws.ping': 'pass'})
    expect(check(report, 'tls.certificate').summary).toContain('--insecure')
    expect(report.summary.verdict).toBe('pass')
  })

  it('a name the certificate does not carry fails the name check', async () => {
    const report = await probeConsole(base(mtls.port, {servername: 'other.example'}))
    expect(check(report, 'tls.certificate').status).toBe('fail')
    expect(factsOf(report).handshake?.nameError).toContain("other.example")
  })

  it('an upgrade answered 403 fails ws.upgrade with the status', async () => {
    const report = await probeConsole(base(refusing.port))
    expect(statuses(report)).toMatchObject({'tls.finished': 'pass', 'ws.upgrade': 'fail', 'ws.ping': 'skip'})
    expect(factsOf(report).upgrade).toMatchObject({status: 403, error: {code: 'HTTP_403'}})
    expect(check(report, 'ws.upgrade').summary).toBe('GET / answered 403 Forbidden instead of 101 Switching Protocols')
  })

  it('nothing listening: tcp.syn-ack fails with ECONNREFUSED', async () => {
    const closed = await freePort()
    const report = await probeConsole(base(closed))
    expect(statuses(report)['tcp.syn-ack']).toBe('fail')
    expect(factsOf(report).tcp.error?.code).toBe('ECONNREFUSED')
    expect(check(report, 'tls.version').summary).toBe('not attempted: the TCP connection failed (see tcp.syn-ack)')
  })

  it('a name that does not resolve fails dns.resolve (ENOTFOUND) and nothing else is tried', async () => {
    // RFC 6761 §6.4: .invalid never resolves.
    const report = await probeConsole({url: 'console.invalid', timeoutMs: 5000, env: {}})
    expect(statuses(report)).toMatchObject({'dns.resolve': 'fail', 'tcp.syn-ack': 'skip'})
    expect(factsOf(report).dns.error?.code).toBe('ENOTFOUND')
    expect(report.connections[0].server).toEqual({ip: '0.0.0.0', port: 8084})
  })

  it('a server that accepts TCP but never answers the ClientHello: the TLS phase times out', async () => {
    // Reads (so it notices the probe leaving) and never writes.
    const silent = createServer((s) => s.on('error', () => undefined).resume())
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
    try {
      const report = await probeConsole(base((silent.address() as AddressInfo).port, {timeoutMs: 300}))
      expect(statuses(report)).toMatchObject({'tcp.syn-ack': 'pass', 'tls.finished': 'fail', 'tls.version': 'skip'})
      expect(factsOf(report).handshake?.error).toEqual({code: 'ETIMEDOUT', message: 'no answer to the TLS ClientHello within 0.3 s'})
    } finally {
      await closeServer(silent)
    }
  })

  it('through an HTTP proxy: CONNECT with basic auth, then the whole Console exchange inside the tunnel', async () => {
    const proxy = await startProxy({credentials: 'defender:pa ss'})
    try {
      const report = await probeConsole(base(mtls.port, {env: {HTTPS_PROXY: `http://defender:pa%20ss@127.0.0.1:${proxy.port}`}}))
      expect(statuses(report)).toMatchObject({'tcp.syn-ack': 'pass', 'proxy.connect': 'pass', 'tls.client-certificate': 'pass', 'ws.ping': 'pass'})
      expect(proxy.requests).toEqual([`CONNECT 127.0.0.1:${mtls.port}`])
      expect(factsOf(report).proxy).toMatchObject({from: 'env', basicAuth: true, status: 200, url: `http://127.0.0.1:${proxy.port}`})
      // NO_PROXY bypasses it.
      const direct = await probeConsole(base(mtls.port, {env: {HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: '127.0.0.1'}}))
      expect(factsOf(direct).proxy).toBeUndefined()
      expect(proxy.requests).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  })

  it('a proxy that refuses CONNECT fails proxy.connect with its status; missing credentials say 407', async () => {
    const refusingProxy = await startProxy({refuse: 403})
    const authProxy = await startProxy({credentials: 'a:b'})
    try {
      const report = await probeConsole(base(mtls.port, {proxy: `http://127.0.0.1:${refusingProxy.port}`}))
      expect(statuses(report)).toMatchObject({'tcp.syn-ack': 'pass', 'proxy.connect': 'fail', 'tls.version': 'skip'})
      expect(check(report, 'proxy.connect').summary).toContain('refused CONNECT 127.0.0.1:')
      const auth = await probeConsole(base(mtls.port, {proxy: `127.0.0.1:${authProxy.port}`}))
      expect(factsOf(auth).proxy?.status).toBe(407)
      expect(check(auth, 'proxy.connect').hint).toContain('wants credentials')
    } finally {
      await refusingProxy.close()
      await authProxy.close()
    }
  })

  it('the key log is created only with owner permissions', async () => {
    const keylogFile = join(mkdtempSync(join(tmpdir(), 'defender-check-probe-')), 'k.log')
    await probeConsole(base(refusing.port, {keylogFile}))
    expect(existsSync(keylogFile)).toBe(true)
    const {statSync} = await import('node:fs')
    expect(statSync(keylogFile).mode & 0o777).toBe(0o600)
  })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as AddressInfo).port
  await closeServer(server)
  return port
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}
