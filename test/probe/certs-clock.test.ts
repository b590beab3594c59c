/**
 * Issue 18 items 3 (probe half) and 4: certs.requested-ca, certs.lifetime and clock.skew against
 * real Consoles (node:https + ws, test/probe/servers.ts) on 127.0.4.1x, ports 241xx:
 * - one whose 101 carries a Date header from a clock the test sets (the Console's behaviour under
 *   test: ws writes no Date of its own, so the server adds it),
 * - one whose CertificateRequest names another CA (fixtures/certs/proxy-ca.pem) than the one that
 *   issued the Defender's certificate (defender-ca.pem), over TLS 1.3 (decrypted with the
 *   probe's own secrets) and TLS 1.2 (in the clear), and one that names the right CA,
 * - one that accepts a client certificate made by openssl in a temporary directory, valid 10 days.
 * The expected verdicts follow from how each server is set up, not from a previous run.
 */
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CheckResult} from '../../src/model/checks.js'
import type {ProbeFacts} from '../../src/model/probe.js'
import type {AnalysisReport} from '../../src/model/report.js'
import {probeConsole, type ProbeInput} from '../../src/probe/index.js'
import {validateReport} from '../../src/report/schema.js'
import {ROOT} from '../helpers/paths.js'
import {CERTS, startConsole, type RunningServer} from './servers.js'

const HOST = '127.0.4.10'
const credentials = {ca: join(CERTS, 'console-ca.pem'), cert: join(CERTS, 'defender-client.pem'), key: join(CERTS, 'defender-client.key')}
/** How fixtures/certs names its CAs, as the CertificateRequest carries them (RFC 4514 order). */
const DEFENDER_CA = 'CN=Defender CA,O=defender-check test'
const PROXY_CA = 'CN=Intercepting Proxy CA,O=defender-check test'

const check = (report: AnalysisReport, id: string): CheckResult => report.connections[0].checks.find((c) => c.id === id)!
const factsOf = (report: AnalysisReport) => report.connections[0].facts as unknown as ProbeFacts
/** An IMF-fixdate (RFC 9110 §5.6.7) of this host's clock shifted by `offsetMs`. */
const httpDate = (offsetMs: number) => new Date(Date.now() + offsetMs).toUTCString()

/** The real CLI (bin/dev.js), asynchronously: the Console under test runs in this process. */
function runCliAsync(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: '', https_proxy: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

describe('probe: the Console\'s clock (clock.skew)', () => {
  const servers: RunningServer[] = []
  const start = async (port: number, date?: () => string) => {
    const server = await startConsole({host: HOST, port, requireClientCert: true, date})
    servers.push(server)
    return server.port
  }
  const probe = (port: number, extra: Partial<ProbeInput> = {}) => probeConsole({url: `wss://${HOST}:${port}/`, servername: 'console.test', timeoutMs: 5000, env: {}, ...credentials, ...extra})
  let ahead: number, behind: number, inStep: number, silent: number
  beforeAll(async () => {
    ahead = await start(24101, () => httpDate(7 * 60_000))
    behind = await start(24102, () => httpDate(-45_000))
    inStep = await start(24103, () => httpDate(0))
    silent = await start(24104)
  })
  afterAll(async () => {
    for (const server of servers) await server.close()
  })

  it('a Console 7 min ahead fails (past 5 min), saying by how much and which way', async () => {
    const report = await probe(ahead)
    const skew = check(report, 'clock.skew')
    expect(skew).toMatchObject({status: 'fail', confidence: 'observed'})
    expect(skew.summary).toMatch(/is (6 min 59 s|7 min( 1 s)?) ahead of this host's .*more than --clock-fail 5 min/)
    expect(skew.hint).toContain('NTP')
    const values = skew.evidence.values as {skewMs: number; uncertaintyMs: number}
    // The Date header is whole seconds: the estimate is within its uncertainty of 420 s.
    expect(Math.abs(values.skewMs - 420_000)).toBeLessThanOrEqual(values.uncertaintyMs + 1000)
    expect(factsOf(report).clock).toMatchObject({status: 101})
    expect(report.summary.verdict).toBe('fail')
  })

  it('45 s behind warns (past 30 s); --clock-warn 1m makes it pass', async () => {
    const skew = check(await probe(behind), 'clock.skew')
    expect(skew.status).toBe('warn')
    expect(skew.summary).toMatch(/4[4-6] s behind this host's.*more than --clock-warn 30 s/)
    expect(check(await probe(behind, {clockWarnMs: 60_000}), 'clock.skew').status).toBe('pass')
    expect(check(await probe(behind, {clockWarnMs: 10_000, clockFailMs: 40_000}), 'clock.skew').status).toBe('fail')
  })

  it('a Console in step passes', async () => {
    const skew = check(await probe(inStep), 'clock.skew')
    expect(skew.status).toBe('pass')
    expect(skew.summary).toContain('within')
  })

  it('no Date header: skipped, saying so', async () => {
    const report = await probe(silent)
    expect(check(report, 'clock.skew')).toMatchObject({status: 'skip', summary: expect.stringContaining('has no Date header')})
    expect(report.summary.verdict).toBe('pass')
  })

  it('the CLI takes --clock-warn/--clock-fail, and table and JSON show the skew (JSON valid against the schema)', async () => {
    const args = ['probe', `wss://${HOST}:${ahead}/`, '--servername', 'console.test', '--ca', credentials.ca, '--cert', credentials.cert, '--key', credentials.key, '--timeout', '5s']
    const json = await runCliAsync([...args, '--json', '--clock-fail', '10m'])
    // 7 min is now under --clock-fail: a warning, and warnings pass (exit 0).
    expect(json.status).toBe(0)
    const report = JSON.parse(json.stdout) as AnalysisReport
    expect(validateReport(report)).toEqual([])
    expect(report.policy).toMatchObject({clockWarnMs: 30_000, clockFailMs: 600_000, certWarnDays: 90, certFailDays: 30})
    expect(check(report, 'clock.skew').status).toBe('warn')
    const table = await runCliAsync([...args, '-f', 'table'])
    expect(table.status).toBe(1)
    expect(table.stdout).toMatch(/clock\.skew +\| FAIL/)
    // The table wraps the summary in its column: read it with the borders folded away.
    expect(table.stdout.replace(/[|\s]+/g, ' ')).toMatch(/is (6 min 59 s|7 min( 1 s)?) ahead of this host's/)
  })
})

describe('probe: the CA names the Console asks for (certs.requested-ca)', () => {
  const servers: RunningServer[] = []
  const start = async (port: number, clientCas: string[], extra: {maxVersion?: 'TLSv1.2'; requireClientCert?: boolean} = {}) => {
    const server = await startConsole({host: '127.0.4.11', port, requireClientCert: extra.requireClientCert ?? true, clientCas, maxVersion: extra.maxVersion})
    servers.push(server)
    return server.port
  }
  const probe = (port: number, extra: Partial<ProbeInput> = {}) => probeConsole({url: `wss://127.0.4.11:${port}/`, servername: 'console.test', timeoutMs: 5000, env: {}, ...credentials, ...extra})
  let rotated: number, rotated12: number, right: number, both: number, notAsking: number
  beforeAll(async () => {
    rotated = await start(24111, ['proxy-ca.pem'])
    rotated12 = await start(24112, ['proxy-ca.pem'], {maxVersion: 'TLSv1.2'})
    right = await start(24113, ['defender-ca.pem'])
    both = await start(24114, ['proxy-ca.pem', 'defender-ca.pem'])
    notAsking = await start(24115, ['defender-ca.pem'], {requireClientCert: false})
  })
  afterAll(async () => {
    for (const server of servers) await server.close()
  })

  it('TLS 1.3: a Console that asks for another CA fails, read from the decrypted CertificateRequest, with the rotation hint', async () => {
    const report = await probe(rotated)
    const ca = check(report, 'certs.requested-ca')
    expect(ca).toMatchObject({status: 'fail', confidence: 'observed'})
    expect(ca.summary).toBe(`the Console asks for a client certificate issued by "${PROXY_CA}" (read from the decrypted handshake); the Defender's certificate was issued by "${DEFENDER_CA}", which it does not name`)
    expect(ca.hint).toMatch(/CA rotation.*redeploy the Defender/)
    expect(factsOf(report).handshake?.certificateRequest).toEqual({state: 'read', decrypted: true, authorities: [PROXY_CA]})
    // The same server (node:tls) then resets the connection instead of answering the upgrade, with
    // no alert: tls.client-certificate says the certificate was not accepted (inferred), not "accepted".
    expect(check(report, 'tls.client-certificate')).toMatchObject({status: 'fail', confidence: 'inferred', summary: expect.stringContaining('see certs.requested-ca')})
  })

  it('TLS 1.2: the same, read in the clear, even though the server then resets the handshake', async () => {
    const report = await probe(rotated12)
    // node's TLS 1.2 server rejects the certificate before its Finished: the handshake fails, and
    // the CertificateRequest it had sent in the clear (RFC 5246 §7.4.4) says why.
    expect(factsOf(report).handshake?.error?.code).toBe('ECONNRESET')
    expect(check(report, 'certs.requested-ca').status).toBe('fail')
    expect(factsOf(report).handshake?.certificateRequest).toEqual({state: 'read', decrypted: false, authorities: [PROXY_CA]})
  })

  it('a Console that names the Defender\'s CA (alone or among others) passes', async () => {
    const alone = check(await probe(right), 'certs.requested-ca')
    expect(alone).toMatchObject({status: 'pass', summary: `the Defender's certificate was issued by "${DEFENDER_CA}", one of the 1 CA(s) the Console asks for (read from the decrypted handshake)`})
    const among = await probe(both)
    expect(check(among, 'certs.requested-ca').status).toBe('pass')
    expect(factsOf(among).handshake?.certificateRequest?.authorities).toEqual([PROXY_CA, DEFENDER_CA])
  })

  it('a server that does not ask: skipped, saying the Console did not ask', async () => {
    const report = await probe(notAsking)
    expect(check(report, 'certs.requested-ca')).toMatchObject({status: 'skip', summary: expect.stringContaining('did not ask for a client certificate')})
    expect(factsOf(report).handshake?.certificateRequest).toEqual({state: 'not-sent'})
  })

  it('without a client certificate: the requested names are reported, nothing to compare', async () => {
    const report = await probe(right, {cert: undefined, key: undefined})
    expect(check(report, 'certs.requested-ca')).toMatchObject({status: 'skip', summary: expect.stringContaining(`issued by "${DEFENDER_CA}"`)})
  })
})

describe('probe: the certificates it used and the Console\'s (certs.lifetime)', () => {
  let dir: string
  let server: RunningServer
  let standard: RunningServer
  let clientNotAfter: string
  beforeAll(async () => {
    // A CA and a client certificate valid 10 days, made with openssl (EC P-256 keys: fast).
    dir = mkdtempSync(join(tmpdir(), 'defender-check-h4-'))
    const openssl = (...args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: 'pipe'})
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=Short Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign')
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=defender-short')
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '10', '-extfile', 'client.ext', '-out', 'client.pem')
    clientNotAfter = new Date(execFileSync('openssl', ['x509', '-in', join(dir, 'client.pem'), '-noout', '-enddate']).toString().trim().replace('notAfter=', '')).toISOString().slice(0, 10)
    server = await startConsole({host: '127.0.4.12', port: 24121, requireClientCert: true, clientCas: [join(dir, 'ca.pem')]})
    standard = await startConsole({host: '127.0.4.12', port: 24122, requireClientCert: true})
  })
  afterAll(async () => {
    await server?.close()
    await standard?.close()
    rmSync(dir, {recursive: true, force: true})
  })
  const probe = (port: number, extra: Partial<ProbeInput> = {}) => probeConsole({url: `wss://127.0.4.12:${port}/`, servername: 'console.test', timeoutMs: 5000, env: {}, ...credentials, ...extra})

  it('a client certificate with 10 days left fails (under 30), with the forecast date and the redeploy hint', async () => {
    const report = await probe(server.port, {cert: join(dir, 'client.pem'), key: join(dir, 'client.key')})
    expect(check(report, 'tls.client-certificate').status).toBe('pass')
    const lifetime = check(report, 'certs.lifetime')
    expect(lifetime).toMatchObject({status: 'fail', confidence: 'observed'})
    expect(lifetime.summary).toContain(`this Defender stops connecting on ${clientNotAfter} unless it is redeployed`)
    expect(lifetime.summary).toMatch(/client certificate "CN=defender-short": FAIL (9|10) days left, under --fail-days 30/)
    expect(lifetime.hint).toContain('redeploy the Defender')
    // The Console's chain (console-server.pem, its CA from --ca) is judged too, and passes.
    const certificates = (lifetime.evidence.values as {certificates: Array<{role: string; status: string; subject: string}>}).certificates
    expect(certificates.map((c) => [c.role, c.status])).toEqual([
      ['client', 'fail'],
      ['ca', 'pass'],
      ['console', 'pass'],
    ])
    expect(factsOf(report).certificates?.find((c) => c.role === 'ca')).toMatchObject({subject: 'O=defender-check test, CN=Console CA', onPath: true})
    // The client's issuer (Short Test CA) is what the Console asks for: the names agree.
    expect(check(report, 'certs.requested-ca').status).toBe('pass')
  })

  it('the fixture PKI (valid to 2046) passes; --warn-days above its days left warns', async () => {
    const report = await probe(standard.port)
    const lifetime = check(report, 'certs.lifetime')
    expect(lifetime.status).toBe('pass')
    expect(lifetime.summary).toMatch(/^this Defender stops connecting on 2046-11-17 unless it is redeployed .*; the Console's chain is valid until 2046-11-17/)
    const warned = check(await probe(standard.port, {certWarnDays: 100_000, certFailDays: 30}), 'certs.lifetime')
    expect(warned.status).toBe('warn')
    expect(warned.summary).toContain('under --warn-days 100000')
  })

  it('reads the key only to use it: no key material or passphrase in the report', async () => {
    const report = await probe(standard.port, {defenderCerts: join(CERTS, 'defender'), ca: undefined, cert: undefined, key: undefined})
    const text = JSON.stringify(report)
    expect(text).not.toContain(readFileSync(join(CERTS, 'defender', 'service-parameter'), 'utf8').trim())
    expect(text).not.toMatch(/PRIVATE KEY|TRAFFIC_SECRET/)
    expect(check(report, 'certs.lifetime').status).toBe('pass')
  })
})
