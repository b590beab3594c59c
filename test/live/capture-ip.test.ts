/**
 * Issue 15's acceptance, end to end as in CI: `capture -i lo --probe wss://127.0.4.1:PORT/` with
 * --ca/--cert/--key against a real mTLS WebSocket Console (node:https + ws, test/probe/servers.ts)
 * whose certificate carries `IP Address:127.0.4.1` (fixtures/certs/console-ip-server.pem): the
 * real CLI (bin/dev.js) in a subprocess, real tcpdump on lo. Both views — the probe's own and the
 * wire's, decrypted with the probe's key log — report tls.certificate, tls.finished and
 * ws.upgrade pass, observed.
 */
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import {ROOT} from '../helpers/paths.js'
import {CERTS, startConsole, type RunningServer} from '../probe/servers.js'

const IP = '127.0.4.1'
const PORT = 24086

function cli(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: '', https_proxy: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

describe('capture -i lo --probe of an IP target whose certificate has that IP in its SAN', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startConsole({host: IP, port: PORT, requireClientCert: true, serverCert: 'console-ip-server'})
  })
  afterAll(async () => {
    await server.close()
  })

  it('tls.certificate, tls.finished and ws.upgrade pass, observed, in the probe\'s view and on the wire', async () => {
    const run = await cli([
      'capture', '-i', 'lo', '--probe', `wss://${IP}:${PORT}/`,
      '--ca', join(CERTS, 'console-ca.pem'), '--cert', join(CERTS, 'defender-client.pem'), '--key', join(CERTS, 'defender-client.key'),
      '--format', 'json', '--timeout', '3s',
    ])
    expect(run.stderr).toBe('')
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(report.source).toMatchObject({kind: 'live', name: 'lo'})
    expect(report.connections).toHaveLength(2)
    const [probe, wire] = report.connections
    expect(wire!.client).toEqual(probe!.client)
    expect(wire!.server).toEqual({ip: IP, port: PORT})
    for (const [view, connection] of [['probe', probe!], ['wire', wire!]] as const) {
      for (const id of ['tls.certificate', 'tls.finished', 'ws.upgrade']) {
        const check = connection.checks.find((c) => c.id === id)
        expect({view, id, status: check?.status, confidence: check?.confidence}, check?.summary).toEqual({view, id, status: 'pass', confidence: 'observed'})
      }
    }
    expect(probe!.checks.find((c) => c.id === 'tls.certificate')!.summary).toContain(`IP address ${IP} matches`)
    expect(report.summary.verdict).toBe('pass')
    expect(run.status).toBe(0)
  })
})
