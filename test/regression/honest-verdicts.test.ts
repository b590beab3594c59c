/**
 * Issue 15 ("never claim more than was verified") and issue 16 item 7 (verdicts on broken input),
 * each example on a real fixture through the real CLI: what the report says, in every format, and
 * the exit code a CI job gates on.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {summarizeConnections} from '../../src/analysis/analyzer.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {validateNdjsonLine, validateReport} from '../../src/report/schema.js'
import {runCli} from '../helpers/cli.js'
import {FIXTURES, RELIABILITY_REPRO, REPRO_ABSENT} from '../helpers/paths.js'
import {describeWhen} from '../helpers/skip.js'

interface Check {
  id: string
  status: string
  confidence: string
  summary: string
  hint?: string
}

function analyze(args: string[]) {
  const run = runCli(['analyze', ...args, '--format', 'json'])
  const report = JSON.parse(run.stdout)
  expect(validateReport(report)).toEqual([])
  const checks = new Map<string, Check>(report.connections[0]?.checks.map((c: Check) => [c.id, c]))
  return {run, report, checks}
}

const ZERO_PIN = `sha256:${'0'.repeat(64)}`
const NODE_MTLS = 'fixtures/wss/node-mtls/capture.pcap'

describe('a policy the user asked for but that could not be evaluated is not a pass', () => {
  it('TLS 1.3 without keys, --ca of the wrong CA and a wrong --pin: tls.certificate warns and names --keylog', () => {
    const {run, report, checks} = analyze([NODE_MTLS, '--ca', 'fixtures/certs/proxy-ca.pem', '--pin', ZERO_PIN])
    expect(checks.get('tls.certificate')).toMatchObject({status: 'warn', confidence: 'inferred'})
    expect(checks.get('tls.certificate')!.summary).toContain('chain (--ca), pin (--pin) cannot be checked')
    expect(checks.get('tls.certificate')!.hint).toMatch(/^encrypted: give --keylog/)
    // Warnings are allowed without --strict.
    expect(report.summary.verdict).toBe('pass')
    expect(run.status).toBe(0)
  })

  it('--strict turns that warning into a failing verdict (exit 1), in JSON and in JUnit', () => {
    const {run, report} = analyze([NODE_MTLS, '--ca', 'fixtures/certs/proxy-ca.pem', '--pin', ZERO_PIN, '--strict'])
    expect(report.policy.strict).toBe(true)
    expect(report.connections[0].verdict).toBe('fail')
    expect(report.summary).toMatchObject({verdict: 'fail', fail: 0, warn: 1})
    expect(report.summary.reason).toContain('--strict')
    expect(run.status).toBe(1)
    const junit = runCli(['analyze', NODE_MTLS, '--ca', 'fixtures/certs/proxy-ca.pem', '--strict', '--format', 'junit'])
    expect(junit.status).toBe(1)
    expect(junit.stdout).toMatch(/<testcase name="tls.certificate"[^>]*>\s*<failure message="WARN \(--strict\)/)
  })

  it('with no certificate policy asked for, the inferred acceptance stays a pass', () => {
    const {checks, run} = analyze([NODE_MTLS])
    expect(checks.get('tls.certificate')).toMatchObject({status: 'pass', confidence: 'inferred'})
    expect(run.status).toBe(0)
  })
})

describe('inconclusive: the handshake that matters was not in the capture', () => {
  it('midstream (no SYN, no ClientHello): verdict inconclusive, exit 3, the hint says to capture before the Defender connects', () => {
    const {run, report, checks} = analyze(['fixtures/tcp/midstream/midstream.pcap'])
    expect(report.connections[0].verdict).toBe('inconclusive')
    expect(report.connections[0].inconclusive.reason).toContain('neither its SYN nor its ClientHello')
    expect(report.summary).toMatchObject({verdict: 'inconclusive', inconclusive: 1, pass: 0})
    expect(report.summary.hint).toContain('before the Defender connects')
    // Nothing about alerts can be claimed either: TLS 1.3 alerts are inside the encrypted records.
    expect(checks.get('tls.alerts')?.status).toBe('skip')
    expect(run.status).toBe(3)
  })

  it('midstream beside a whole handshake (the two real captures merged): the run passes on the judged one and counts the inconclusive one, exit 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-mixed-'))
    try {
      const merged = join(dir, 'mixed.pcap')
      const made = spawnSync('mergecap', ['-F', 'pcap', '-w', merged, 'fixtures/tcp/midstream/midstream.pcap', 'fixtures/tcp/tls13-lo/tls13-lo.pcap'], {encoding: 'utf8'})
      expect(made.status, `mergecap (apt-get install -y tshark): ${made.stderr}`).toBe(0)
      const {run, report} = analyze([merged])
      expect(report.connections.map((c: {verdict: string}) => c.verdict).sort()).toEqual(['inconclusive', 'warn'])
      expect(report.summary).toMatchObject({verdict: 'pass', inconclusive: 1, reason: expect.stringContaining('not counted in the verdict')})
      expect(run.status).toBe(0)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('midstream in the table, JUnit and NDJSON: INCONCLUSIVE with the hint, a failing "verdict" testcase, the summary line', () => {
    const table = runCli(['analyze', 'fixtures/tcp/midstream/midstream.pcap', '--format', 'table'])
    expect(table.status).toBe(3)
    expect(table.stdout).toMatch(/Verdict: INCONCLUSIVE/)
    expect(table.stdout).toContain('hint: capture again, starting tcpdump before the Defender connects')
    const junit = runCli(['analyze', 'fixtures/tcp/midstream/midstream.pcap', '--format', 'junit'])
    expect(junit.stdout).toMatch(/<testcase name="verdict"[^>]*>\s*<failure message="inconclusive: [^"]+" type="inconclusive">hint: capture again/)
    // Two failures: the connection's "verdict" testcase, and its Defender's suite (one Defender,
    // whose only connection is inconclusive: its "connections" testcase fails as inconclusive too).
    expect(junit.stdout).toMatch(/<testsuites [^>]*failures="2"/)
    expect(junit.stdout).toMatch(/<testsuite name="127\.0\.0\.5:\d+ → 127\.0\.0\.5:8084"[^>]*failures="1"/)
    expect(junit.stdout.match(/type="inconclusive"/g)).toHaveLength(2)
    const ndjson = runCli(['analyze', 'fixtures/tcp/midstream/midstream.pcap', '--format', 'ndjson'])
    const lines = ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line))
    for (const line of lines) expect(validateNdjsonLine(line)).toEqual([])
    expect(lines[0]).toMatchObject({type: 'connection', verdict: 'inconclusive'})
    expect(lines.at(-1)).toMatchObject({type: 'summary', verdict: 'inconclusive', hint: expect.stringContaining('before the Defender connects')})
    expect(ndjson.status).toBe(3)
  })

  it('midstream in the HTML report: the INCONCLUSIVE badge, the reason and the hint', () => {
    const work = mkdtempSync(join(tmpdir(), 'dc-h3-html-'))
    try {
      const html = join(work, 'report.html')
      const run = runCli(['analyze', 'fixtures/tcp/midstream/midstream.pcap', '--format', 'json', '--html', html])
      expect(run.status).toBe(3)
      const text = readFileSync(html, 'utf8')
      expect(text).toContain('Verdict: <span class="status inconclusive">INCONCLUSIVE</span>')
      expect(text).toContain('<p class="inconclusive">inconclusive: the capture started after the connection opened')
      expect(text).toContain('<p class="hint hint-inconclusive">hint: capture again, starting tcpdump before the Defender connects')
    } finally {
      rmSync(work, {recursive: true, force: true})
    }
  })

  it('a capture cut by the snaplen: inconclusive, exit 3, the hint says -s 0', () => {
    const {run, report} = analyze(['fixtures/snaplen/snaplen.pcap'])
    expect(report.summary.verdict).toBe('inconclusive')
    expect(report.summary.reason).toContain('snaplen')
    expect(report.summary.hint).toContain('-s 0')
    expect(run.status).toBe(3)
  })

  it('fail wins over inconclusive; a run is inconclusive only when no connection was judged: the summary of a midstream connection alone, with a failing or with a passing one', async () => {
    const policy = (minTls?: string) => buildPolicy({minTls})
    const midstream = (await analyzeCapture('fixtures/tcp/midstream/midstream.pcap', {policy: policy()})).connections[0]!
    const failing = (await analyzeCapture('fixtures/tls/tls12-only-server/capture.pcap', {policy: policy('1.3')})).connections[0]!
    const passing = (await analyzeCapture('fixtures/tls/tls12-only-server/capture.pcap', {policy: policy('1.2')})).connections[0]!
    expect([midstream.verdict, failing.verdict, passing.verdict]).toEqual(['inconclusive', 'fail', 'pass'])
    expect(summarizeConnections([midstream, failing], policy()).verdict).toBe('fail')
    // Inconclusive only when nothing was judged; beside a judged connection the run passes on it.
    expect(summarizeConnections([midstream], policy()).verdict).toBe('inconclusive')
    expect(summarizeConnections([midstream, midstream], policy()).verdict).toBe('inconclusive')
    expect(summarizeConnections([passing, midstream], policy())).toMatchObject({verdict: 'pass', inconclusive: 1})
    expect(summarizeConnections([passing], policy()).verdict).toBe('pass')
  })
})

describe('TLS version policy: 1.3 pass, 1.2 warn by default, --min-tls moves the line', () => {
  const capture = 'fixtures/tls/tls12-only-server/capture.pcap'
  it('default: TLS 1.2 warns, saying newer Consoles negotiate TLS 1.3', () => {
    const {checks, run} = analyze([capture])
    expect(checks.get('tls.version')).toMatchObject({status: 'warn', confidence: 'observed'})
    expect(checks.get('tls.version')!.hint).toContain('newer Consoles negotiate TLS 1.3; some versions document mutual TLS 1.2')
    expect(run.status).toBe(0)
  })
  it('--min-tls 1.3: TLS 1.2 fails; --min-tls 1.2: it passes', () => {
    expect(analyze([capture, '--min-tls', '1.3']).checks.get('tls.version')?.status).toBe('fail')
    expect(analyze([capture, '--min-tls', '1.2']).checks.get('tls.version')?.status).toBe('pass')
  })
  it('a ClientHello offering only TLS 1.2 warns by default, fails with --min-tls 1.3 (openssl12-mtls)', () => {
    expect(analyze(['fixtures/tls/openssl12-mtls/capture.pcap']).checks.get('tls.client-hello')?.status).toBe('warn')
    expect(analyze(['fixtures/tls/openssl12-mtls/capture.pcap', '--min-tls', '1.3']).checks.get('tls.client-hello')?.status).toBe('fail')
  })
})

describe('SaaS profile: no client certificate expected, no self-hosted certificate directory in any hint', () => {
  it('--saas on a Console that demanded a certificate the client lacked: tls.client-certificate skips, saying SaaS uses a token', () => {
    const args = ['fixtures/tls/openssl13-nocert/capture.pcap', '--saas']
    const {checks, report} = analyze(args)
    expect(report.policy.saas).toBe(true)
    expect(checks.get('tls.client-certificate')).toMatchObject({status: 'skip', summary: expect.stringContaining('token')})
    for (const format of ['table', 'json', 'junit']) {
      expect(runCli(['analyze', ...args, '--format', format]).stdout).not.toContain('/var/lib/twistlock/certificates')
    }
    // The self-hosted profile names the directory for the same capture.
    expect(runCli(['analyze', 'fixtures/tls/openssl13-nocert/capture.pcap', '--format', 'table']).stdout).toContain('/var/lib/twistlock/certificates')
  })
  it('port 443 selects the SaaS profile', () => {
    expect(buildPolicy({ports: ['443']}).saas).toBe(true)
    expect(buildPolicy({ports: ['8084']}).saas).toBeUndefined()
  })
})

describe('wording: the side quoted is the side named, and no c2s/s2c', () => {
  it('openssl13-mtls with keys: the client sent "hello from defender": ws.upgrade quotes the client\'s bytes, not the server\'s', () => {
    const {checks} = analyze(['fixtures/tls/openssl13-mtls/capture.pcap', '--keylog', 'fixtures/tls/openssl13-mtls/keys.log'])
    const upgrade = checks.get('ws.upgrade')!
    expect(upgrade.status).toBe('fail')
    expect(upgrade.summary).toContain("the client's application data is not an HTTP request")
    expect(upgrade.summary).toContain(Buffer.from('hello from defen').toString('hex'))
    expect(upgrade.summary).not.toContain(Buffer.from('hello from conso').toString('hex'))
  })
  it.each([
    ['fixtures/snaplen/snaplen.pcap'],
    ['fixtures/tls/openssl13-mtls/capture.pcap', '--keylog', 'fixtures/tls/openssl13-mtls/keys.log'],
    ['fixtures/tcp/midstream/midstream.pcap'],
  ])('%s: no c2s or s2c in the table', (...args) => {
    const table = runCli(['analyze', ...args, '--format', 'table', '--timeline'])
    expect(table.stdout).not.toMatch(/\b(c2s|s2c)\b/)
  })
})

const generator = join(RELIABILITY_REPRO, 'gen_lists.py')
describeWhen(existsSync(generator), REPRO_ABSENT, 'issue 16 item 7: a connection whose every ClientHello is malformed', () => {
  const work = mkdtempSync(join(tmpdir(), 'dc-h3-malformed-'))
  afterAll(() => rmSync(work, {recursive: true, force: true}))

  it('fails tls.client-hello with the parse error instead of "no TLS handshake was seen" and PASS', () => {
    const made = spawnSync('python3', [generator, 'malformedhs', '3'], {env: {...process.env, OUT: work}, cwd: work, encoding: 'utf8'})
    expect(made.status, made.stderr).toBe(0)
    const {run, report, checks} = analyze([join(work, 'malformedhs3.pcap')])
    const hello = checks.get('tls.client-hello')!
    expect(hello).toMatchObject({status: 'fail', confidence: 'observed'})
    expect(hello.summary).toContain('all 3 ClientHellos from the client are malformed')
    expect(hello.summary).not.toContain('no TLS handshake was seen')
    expect(report.summary.verdict).toBe('fail')
    expect(run.status).toBe(1)
  })
})

/**
 * The real tls13-lo capture (pcap, Ethernet, IPv4) with its ClientHello segment (frame 4) resent
 * the way a broken path would: the tail of the segment first with a corrupted byte, then the same
 * tail intact, then the head. The first bytes received win (Wireshark's rule), so the ClientHello
 * read is the corrupted one, and the capture holds two different copies of the same bytes.
 */
function conflictingClientHello(): Uint8Array {
  const pcap = readFileSync(join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap'))
  const records: Buffer[] = []
  for (let off = 24; off < pcap.length; ) {
    const caplen = pcap.readUInt32LE(off + 8)
    records.push(pcap.subarray(off, off + 16 + caplen))
    off += 16 + caplen
  }
  const hello = records[3]! // frame 4
  const ip = 16 + 14
  const tcp = ip + (hello[ip]! & 0x0f) * 4
  const payloadAt = tcp + (hello[tcp + 12]! >> 4) * 4
  const payload = hello.subarray(payloadAt)
  expect(payload[0]).toBe(22) // a handshake record: the ClientHello
  const seq = hello.readUInt32BE(tcp + 4)
  const segment = (from: number, bytes: Buffer): Buffer => {
    const frame = Buffer.concat([hello.subarray(0, payloadAt), bytes])
    frame.writeUInt32LE(frame.length - 16, 8)
    frame.writeUInt32LE(frame.length - 16, 12)
    frame.writeUInt16BE(frame.length - ip, ip + 2) // IPv4 total length
    frame.writeUInt32BE((seq + from) >>> 0, tcp + 4)
    return frame
  }
  const split = 10
  const tail = Buffer.from(payload.subarray(split))
  const corrupt = Buffer.from(tail)
  // legacy_session_id's length (record 5 + handshake header 4 + version 2 + random 32 = offset 43):
  // 255 runs past the message, so this ClientHello cannot be parsed (RFC 8446 §4.1.2).
  corrupt[43 - split] = 0xff
  const frames = [...records.slice(0, 3), segment(split, corrupt), segment(split, tail), segment(0, Buffer.from(payload.subarray(0, split))), ...records.slice(4)]
  return Buffer.concat([pcap.subarray(0, 24), ...frames])
}

describe('issue 16 item 7: a conflicting retransmission corrupted the ClientHello', () => {
  const work = mkdtempSync(join(tmpdir(), 'dc-h3-conflict-'))
  afterAll(() => rmSync(work, {recursive: true, force: true}))

  it('the capture cannot tell which copy the Console got: tls.client-hello skips with the reason, the verdict is inconclusive (exit 3)', () => {
    const file = join(work, 'conflict.pcap')
    writeFileSync(file, conflictingClientHello())
    const {run, report, checks} = analyze([file])
    expect(report.connections[0].facts.issues.map((i: {code: string}) => i.code)).toEqual(expect.arrayContaining(['tcp.overlap-mismatch', 'tls.malformed-handshake']))
    const hello = checks.get('tls.client-hello')!
    expect(hello.status).toBe('skip')
    expect(hello.summary).toContain('a retransmission from the client carried different bytes')
    expect(hello.summary).not.toContain('no TLS handshake was seen')
    expect(report.connections[0].verdict).toBe('inconclusive')
    expect(report.summary.verdict).toBe('inconclusive')
    expect(report.summary.hint).toContain('two copies of the same TCP bytes differed')
    expect(run.status).toBe(3)
  })
})
