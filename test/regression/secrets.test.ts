/**
 * Issue 16 item 1: credentials never reach an output. Planted values are grepped for in every
 * report format (table with --timeline, JSON, NDJSON, JUnit, the --html file) and in stderr:
 * - decrypted upgrades carrying Authorization, Cookie, ?token= and Set-Cookie: the committed real
 *   capture fixtures/wss/secret-headers (node ws ↔ node https+ws, keys.log) and the reliability
 *   reproduction ../shared/repro/reliability/authz-header-dsb.pcapng (keys in a DSB);
 * - the probe: a Console URL with ?token=, -H Authorization, a proxy URL with a password, against
 *   a real mTLS WebSocket server behind a real CONNECT proxy that checks the password;
 * - every error line that quotes user input: --proxy, HTTPS_PROXY, the Console URL, --header.
 * Each run also asserts the value was there to leak (the redaction marker, the decrypted upgrade,
 * the exit code), so that a run that read nothing cannot pass.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {inspect} from 'node:util'
import {HttpUpgradeReader} from '../../src/protocols/http/upgrade.js'
import {parseConnectRequest} from '../../src/protocols/proxy/http-connect.js'
import {describeHeaderLine, redactUrl, reportableHeaderValue} from '../../src/secrets.js'
import {runCli} from '../helpers/cli.js'
import {FIXTURES, RELIABILITY_REPRO, REPRO_ABSENT, ROOT} from '../helpers/paths.js'
import {describeWhen} from '../helpers/skip.js'
import {CERTS, startConsole, startProxy, type RunningServer} from '../probe/servers.js'

/** fixtures/wss/peer.mjs SECRET_VALUES (scenario secret-headers). */
const PLANTED = ['h5PlantedBearer-7Qx9vT2w', 'h5PlantedCookie-K2m4rP8s', 'h5PlantedUrlToken-Z8p1nB5c', 'h5PlantedSetCookie-M3k7wQ1d']
/** The values in the reliability reproduction's upgrade request. */
const DSB_PLANTED = ['TOKEN-s3cr3t-abc123', 'cookieval-9f8e7d']

const FORMATS = [
  ['table', ['-f', 'table', '--timeline']],
  ['json', ['-f', 'json']],
  ['ndjson', ['-f', 'ndjson']],
  ['junit', ['-f', 'junit']],
] as const

/** Every format of one analyze run, plus the HTML report, as one text per output. */
function analyzeAllFormats(args: string[]): Array<{format: string; status: number | null; text: string}> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-secrets-'))
  const runs: Array<{format: string; status: number | null; text: string}> = FORMATS.map(([format, flags]) => {
    const run = runCli(['analyze', ...args, ...flags])
    return {format, status: run.status, text: run.stdout + run.stderr}
  })
  const html = join(dir, 'report.html')
  const run = runCli(['analyze', ...args, '-f', 'json', '--html', html])
  runs.push({format: 'html', status: run.status, text: (existsSync(html) ? readFileSync(html, 'utf8') : '') + run.stderr})
  return runs
}

function expectNone(text: string, secrets: string[], where: string): void {
  for (const secret of secrets) expect(text.includes(secret), `${where} shows ${secret}`).toBe(false)
}

describe('the redaction helper (src/secrets.ts)', () => {
  it('replaces userinfo and credential-like query values, keeps the rest', () => {
    expect(redactUrl('http://user:s3cretPW@127.0.0.1:99999')).toBe('http://[redacted, 13 bytes]@127.0.0.1:99999')
    expect(redactUrl('wss://c:8084/ws?id=7&token=abc&access_token=xyz1&apiKey=k&x=1')).toBe(
      'wss://c:8084/ws?id=7&token=[redacted, 3 bytes]&access_token=[redacted, 4 bytes]&apiKey=[redacted, 1 bytes]&x=1',
    )
    expect(redactUrl('/defender/ws')).toBe('/defender/ws')
  })

  it('replaces credential header values by their size, whatever the case of the name', () => {
    for (const name of ['Authorization', 'proxy-authorization', 'COOKIE', 'Set-Cookie']) expect(reportableHeaderValue(name, 'Bearer abc')).toBe('[redacted, 10 bytes]')
    expect(reportableHeaderValue('Host', 'console.test')).toBe('console.test')
  })

  it('quotes only the name of a header line typed without its colon', () => {
    expect(describeHeaderLine('Authorization Bearer TOKENs3cret')).toBe('"Authorization" followed by [redacted, 19 bytes]')
  })
})

describe('the readers hold no credential in their facts', () => {
  const ref = {frame: 4, ts: 1}
  it('HTTP upgrade reader: headers (also folded over lines), a line without its colon, a token in the path', () => {
    const reader = new HttpUpgradeReader()
    const request =
      'GET /ws?x=1&access_token=AT-h5secret HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer\r\n  BEARER-h5secret\r\nCookie: a=COOKIE-h5secret\r\n' +
      'Proxy-Authorization Basic NOCOLON-h5secret\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
    reader.data('c2s', Buffer.from(request, 'latin1'), ref)
    reader.data('s2c', Buffer.from('HTTP/1.1 401 Unauthorized\r\nSet-Cookie: s=SETCOOKIE-h5secret\r\n\r\n', 'latin1'), {frame: 5, ts: 2})
    const facts = reader.facts
    const shown = JSON.stringify(facts) + inspect(facts, {depth: Infinity})
    expect(shown).not.toContain('h5secret')
    expect(facts.request!.path).toBe('/ws?x=1&access_token=[redacted, 11 bytes]')
    expect(facts.request!.headers.find((h) => h.name === 'Authorization')!.value).toBe('[redacted, 22 bytes]')
    expect(facts.response!.headers).toEqual([{name: 'Set-Cookie', value: '[redacted, 20 bytes]'}])
    expect(facts.issues.map((i) => i.message)).toContain('a client header line is not name:value: "Proxy-Authorization" followed by [redacted, 23 bytes]')
  })

  it('proxy CONNECT reader: a request line that is not CONNECT quotes its target without a token', () => {
    const request = parseConnectRequest(Buffer.from('GET http://u:PW-h5secret@proxy/x?token=TOK-h5secret HTTP/1.1\r\nProxy-Authorization: Basic QUJD-h5secret\r\n\r\n', 'latin1'))
    expect(JSON.stringify(request)).not.toContain('h5secret')
    expect(request.malformed).toContain('token=[redacted, 12 bytes]')
    expect(request.authorizationScheme).toBe('Basic')
  })
})

describe('decrypted upgrades: no credential in any format', () => {
  const fixture = join(FIXTURES, 'wss', 'secret-headers')
  const args = [join(fixture, 'capture.pcap'), '-p', '25443', '--console', 'console.test', '--ca', join(CERTS, 'console-ca.pem'), '--keylog', join(fixture, 'keys.log')]

  it('the fixture holds the planted values on the wire (so a clean report is a redacted one)', () => {
    // keys.log + the capture: the GET and the 101 are in TLS records; the values themselves are
    // checked by the fixture's make.sh with tshark. Here: the report shows each as redacted.
    const report = JSON.parse(runCli(['analyze', ...args, '-f', 'json']).stdout) as {connections: Array<{checks: Array<{id: string; status: string; confidence: string}>}>}
    expect(report.connections[0]!.checks.find((c) => c.id === 'ws.upgrade')).toMatchObject({status: 'pass', confidence: 'observed'})
  })

  it.each(analyzeAllFormats(args).map((r) => [r.format, r] as const))('fixtures/wss/secret-headers, %s', (format, run) => {
    expect(run.status, run.text.slice(0, 400)).toBe(0)
    expectNone(run.text, PLANTED, format)
    // Not vacuous: the upgrade was read and its path (with the token) shown, redacted (JUnit
    // has no text for a passing check: its ws.upgrade test case passed).
    if (format === 'junit') expect(run.text).toContain('<testcase name="ws.upgrade" classname="defender-check.conn-1"/>')
    else expect(run.text).toContain('token=[redacted, 26 bytes]')
  })

  it('JSON keeps each credential header as present, redacted, with its size', () => {
    const text = runCli(['analyze', ...args, '-f', 'json']).stdout
    expect(text).toMatch(/"name": "Authorization",\s+"value": "\[redacted, 31 bytes\]"/)
    expect(text).toMatch(/"name": "Cookie",\s+"value": "\[redacted, 28 bytes\]"/)
    expect(text).toMatch(/"name": "Set-Cookie",\s+"value": "\[redacted, 53 bytes\]"/)
  })

  const dsb = join(RELIABILITY_REPRO, 'authz-header-dsb.pcapng')
  const haveDsb = existsSync(dsb)
  describeWhen(haveDsb, REPRO_ABSENT, 'the DSB reproduction authz-header-dsb.pcapng', () => {
  it.each(analyzeAllFormats([dsb, '-p', 'any']).map((r) => [r.format, r] as const))('../shared/repro/reliability/authz-header-dsb.pcapng, %s', (format, run) => {
    expect(run.status === 0 || run.status === 1, run.text.slice(0, 400)).toBe(true)
    expectNone(run.text, DSB_PLANTED, format)
  })

  it('the DSB reproduction is decrypted: its headers are there, redacted', () => {
    const text = runCli(['analyze', dsb, '-p', 'any', '-f', 'json']).stdout
    expect(text).toMatch(/"name": "Authorization",\s+"value": "\[redacted, \d+ bytes\]"/)
    expect(text).toMatch(/"name": "Cookie",\s+"value": "\[redacted, \d+ bytes\]"/)
  })
  })
})

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** The CLI without blocking this process: the servers the probe talks to live here. */
function cliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: '', https_proxy: '', ...env}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

describe('the probe: no credential in any format', () => {
  const PROXY_PASSWORD = 'h5ProxyPw-Q4r8'
  const URL_TOKEN = 'h5ProbeToken-W2e6'
  const BEARER = 'h5ProbeBearer-T7y3'
  let consoleServer: RunningServer
  let proxy: RunningServer & {requests: string[]}
  beforeAll(async () => {
    consoleServer = await startConsole({requireClientCert: true})
    proxy = await startProxy({credentials: `defender:${PROXY_PASSWORD}`})
  })
  afterAll(async () => {
    await consoleServer.close()
    await proxy.close()
  })

  it('through an authenticating proxy, with ?token= and -H Authorization: every format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-secrets-probe-'))
    const base = [
      'probe', `wss://127.0.0.1:${consoleServer.port}/ws?token=${URL_TOKEN}`, '--servername', 'console.test',
      '--defender-certs', join(CERTS, 'defender'), '--proxy', `http://defender:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`,
      '-H', `Authorization: Bearer ${BEARER}`, '--timeout', '5s',
    ]
    for (const [format, flags] of FORMATS) {
      const run = await cliAsync([...base, ...flags])
      expect(run.status, `${format}: ${run.stderr}`).toBe(0)
      expectNone(run.stdout + run.stderr, [PROXY_PASSWORD, URL_TOKEN, BEARER], format)
    }
    const html = join(dir, 'probe.html')
    const run = await cliAsync([...base, '-f', 'json', '--html', html])
    expectNone(readFileSync(html, 'utf8') + run.stdout + run.stderr, [PROXY_PASSWORD, URL_TOKEN, BEARER], 'html')
    // Not vacuous: the proxy checked the password and the token reached the Console.
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('token=[redacted, 17 bytes]')
    expect(proxy.requests.length).toBeGreaterThanOrEqual(5)
  })
})

describe('error lines quote user input without its credentials', () => {
  const SECRET = 's3cretPW-h5'
  it.each([
    ['--proxy with a bad port', ['probe', 'wss://127.0.0.10:8084/', '--proxy', `http://user:${SECRET}@127.0.0.1:99999`], {}],
    ['--proxy without a scheme', ['probe', 'wss://127.0.0.10:8084/', '--proxy', `user:${SECRET}@:3128`], {}],
    ['--proxy with a path and a token', ['probe', 'wss://127.0.0.10:8084/', '--proxy', `http://127.0.0.1:3128/x?token=${SECRET}`], {}],
    ['HTTPS_PROXY https://', ['probe', 'wss://127.0.0.10:8084/'], {HTTPS_PROXY: `https://user:${SECRET}@127.0.0.1:3128`}],
    ['a Console URL with user:password@', ['probe', `wss://user:${SECRET}@127.0.0.10:8084/ws?token=${SECRET}`], {}],
    ['a bare Console host:port with user:password@', ['probe', `user:${SECRET}@127.0.0.10:8084`], {}],
    ['a Console URL that is not wss', ['probe', `https://127.0.0.10:8084/ws?token=${SECRET}`], {}],
    ['-H without its colon', ['probe', 'wss://127.0.0.10:8084/', '-H', `Authorization Bearer ${SECRET}`], {}],
  ] as const)('%s: exit 2, one line, no secret', (_name, args, env) => {
    const run = runCli([...args], {env: {HTTPS_PROXY: '', https_proxy: '', ...env}})
    expect(run.status).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toMatch(/^defender-check: .*\[redacted, \d+ bytes\]/)
    expectNone(run.stdout + run.stderr, [SECRET], 'stderr')
  })

  it('a --proxy that is not host:port is a usage error, not a DNS lookup', () => {
    const run = runCli(['probe', 'wss://127.0.0.10:8084/', '--proxy', 'notaurl'], {env: {HTTPS_PROXY: ''}})
    expect(run.status).toBe(2)
    expect(run.stderr).toBe('defender-check: --proxy "notaurl" is not a proxy URL: no port (expected http://[user:password@]host:port)\n')
  })

  it('a refused proxy is named with its own address and port, and the hint is about the proxy', async () => {
    const run = await cliAsync(['probe', 'wss://127.0.0.10:8084/', '--proxy', `http://user:${SECRET}@127.0.5.5:25128`, '-f', 'json', '--timeout', '3s'])
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout) as {connections: Array<{checks: Array<{id: string; status: string; summary: string; hint?: string}>}>}
    const tcp = report.connections[0]!.checks.find((c) => c.id === 'tcp.syn-ack')!
    expect(tcp.status).toBe('fail')
    expect(tcp.summary).toBe('connection refused by the proxy 127.0.5.5:25128 (RST answered the SYN)')
    expect(tcp.hint).toContain('check that the proxy (http://127.0.5.5:25128, from --proxy) is running and listening on port 25128')
    expect(run.stdout).not.toContain('8084 (RST')
    expectNone(run.stdout + run.stderr, [SECRET], 'report')
  })
})
