/**
 * The probe under the verdict policy of issue 15, against real peers: a TLS 1.3 mTLS Console
 * (test/probe/servers.ts) and a node:https + ws server that speaks TLS 1.2 only.
 */
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import {join} from 'node:path'
import {WebSocketServer} from 'ws'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import {probeConsole, type ProbeInput} from '../../src/probe/index.js'
import {CERTS, cert, startConsole, type RunningServer} from './servers.js'

/** A WebSocket server on TLS 1.2 only (RFC 5246), no client certificate asked for. */
async function startTls12Console(): Promise<RunningServer> {
  const server = createHttpsServer({key: cert('console-server.key'), cert: cert('console-server.pem'), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2'})
  const wss = new WebSocketServer({noServer: true})
  wss.on('connection', (ws) => ws.on('error', () => undefined))
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined)
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  server.on('tlsClientError', () => undefined)
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

const statusOf = (report: AnalysisReport, id: string) => report.connections[0].checks.find((c) => c.id === id)
const outputText = (report: AnalysisReport) => JSON.stringify(report)

describe('probe: TLS version policy, --strict and the SaaS profile', () => {
  let tls12: RunningServer
  let mtls: RunningServer
  const base = (port: number, extra: Partial<ProbeInput> = {}): ProbeInput => ({url: `wss://127.0.0.1:${port}/`, servername: 'console.test', ca: join(CERTS, 'console-ca.pem'), timeoutMs: 3000, env: {}, ...extra})

  beforeAll(async () => {
    tls12 = await startTls12Console()
    mtls = await startConsole({requireClientCert: true})
  })
  afterAll(async () => {
    await tls12.close()
    await mtls.close()
  })

  it('a TLS 1.2 Console: the probe offers 1.2 and 1.3 by default, tls.version warns, the verdict passes', async () => {
    const report = await probeConsole(base(tls12.port))
    expect(statusOf(report, 'tls.version')).toMatchObject({status: 'warn', summary: expect.stringContaining('negotiated TLS 1.2')})
    expect(statusOf(report, 'tls.version')!.hint).toContain('newer Consoles negotiate TLS 1.3')
    expect(statusOf(report, 'ws.upgrade')?.status).toBe('pass')
    expect(report.summary.verdict).toBe('pass')
  })

  it('--strict makes that warning fail the verdict; --min-tls 1.3 fails the version; --min-tls 1.2 passes it', async () => {
    const strict = await probeConsole(base(tls12.port, {strict: true}))
    expect(strict.connections[0].verdict).toBe('fail')
    expect(strict.summary.verdict).toBe('fail')
    expect(statusOf(await probeConsole(base(tls12.port, {minTls: '1.3'})), 'tls.version')?.status).toBe('fail')
    expect(statusOf(await probeConsole(base(tls12.port, {minTls: '1.2'})), 'tls.version')?.status).toBe('pass')
  })

  it('--saas against a server demanding a client certificate: tls.client-certificate skips (token), no hint names the certificate directory', async () => {
    const saas = await probeConsole(base(mtls.port, {saas: true}))
    expect(saas.policy.saas).toBe(true)
    expect(statusOf(saas, 'tls.client-certificate')).toMatchObject({status: 'skip', summary: expect.stringContaining('token')})
    expect(outputText(saas)).not.toContain('/var/lib/twistlock/certificates')
    // The self-hosted profile points at the directory for the same server.
    expect(outputText(await probeConsole(base(mtls.port)))).toContain('/var/lib/twistlock/certificates')
  })
})
