/**
 * The analyze command as a user runs it: real fixture captures in, exit codes, formats and
 * error lines out.
 */
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {validateReport} from '../../src/report/schema.js'
import {runCli} from '../helpers/cli.js'
import {CORPUS_PCAPS, FIXTURES} from '../helpers/paths.js'
import {itWithJa4} from '../helpers/skip.js'

const SAMPLE = join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap')
const REFUSED = join(FIXTURES, 'tcp', 'refused', 'refused.pcap')
const tmp = mkdtempSync(join(tmpdir(), 'defender-check-cli-'))

describe('defender-check analyze', () => {
  it('passes the sample capture with exit code 0 and a table naming every TCP check', () => {
    const run = runCli(['analyze', SAMPLE, '--format', 'table'])
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    for (const id of ['tcp.syn', 'tcp.syn-ack', 'tcp.ack']) expect(run.stdout).toMatch(new RegExp(`${id.replace('.', '\\.')}\\s.*PASS`))
    expect(run.stdout).not.toContain('\u001b[')
  })

  it('defaults to JSON when stdout is not a terminal, valid against the schema', () => {
    const run = runCli(['analyze', SAMPLE])
    expect(run.status).toBe(0)
    const report = JSON.parse(run.stdout)
    expect(validateReport(report)).toEqual([])
    expect(report.summary.verdict).toBe('pass')
  })

  it('exits 1 on a refused connection and says so', () => {
    const run = runCli(['analyze', REFUSED, '--format', 'table'])
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(/tcp\.syn-ack\s.*FAIL/)
    expect(run.stdout).toMatch(/refused/i)
  })

  it('exits 1 when there is no traffic to the Console port and lists what was seen instead', () => {
    const run = runCli(['analyze', SAMPLE, '--port', '9999', '--format', 'table'])
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(/8084/)
  })

  it('--json prints the report and keeps the exit code', () => {
    const run = runCli(['analyze', REFUSED, '--json'])
    expect(run.status).toBe(1)
    expect(JSON.parse(run.stdout).summary.verdict).toBe('fail')
  })

  it('writes JUnit, NDJSON and JSON to --output, the format taken from the extension', () => {
    const xml = join(tmp, 'report.xml')
    expect(runCli(['analyze', REFUSED, '-o', xml]).status).toBe(1)
    const junit = readFileSync(xml, 'utf8')
    expect(junit).toMatch(/^<\?xml/)
    expect(junit).toMatch(/<testcase [^>]*name="tcp\.syn-ack"[^>]*>\s*<failure/)

    const ndjson = join(tmp, 'report.ndjson')
    expect(runCli(['analyze', SAMPLE, '-o', ndjson]).status).toBe(0)
    const lines = readFileSync(ndjson, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
    expect(lines.at(-1).type).toBe('summary')
    expect(lines.length).toBeGreaterThanOrEqual(2)
  })

  itWithJa4('streams NDJSON as connections are decided: the same connections as the JSON report, summary last', () => {
    // 58 connections on 443, several still open at the end of the capture, so the order in which
    // they are decided is not the order of their ids.
    const capture = join(CORPUS_PCAPS, 'tls-handshake.pcapng')
    const json = JSON.parse(runCli(['analyze', capture, '--port', '443', '--format', 'json']).stdout)
    // --format json is written as the analysis runs; --json (oclif) returns the whole report.
    expect(json).toEqual(JSON.parse(runCli(['analyze', capture, '--port', '443', '--json']).stdout))
    const run = runCli(['analyze', capture, '--port', '443', '--format', 'ndjson'])
    expect(run.status).toBe(1)
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line))
    const summary = lines.pop()
    expect(summary).toMatchObject({type: 'summary', ...json.summary})
    // After the connections, one line per Defender (the report's defenders view), before the summary.
    const defenders = lines.filter((line) => line.type === 'defender')
    expect(defenders.map(({type: _type, source: _source, ...defender}) => defender)).toEqual(json.defenders.defenders)
    expect(lines.slice(lines.length - defenders.length).every((line) => line.type === 'defender')).toBe(true)
    lines.splice(lines.length - defenders.length)
    expect(lines.every((line) => line.type === 'connection' && line.source === capture)).toBe(true)
    const byId = (a: {id: number}, b: {id: number}) => a.id - b.id
    const streamed = lines.map(({type: _type, source: _source, ...connection}) => connection).sort(byId)
    expect(streamed).toEqual(json.connections)
    expect(lines.map((line) => line.id)).not.toEqual(streamed.map((c: {id: number}) => c.id))
  })

  itWithJa4('prints the big-capture table from connections it did not keep: counts, failing checks, the worst ones', () => {
    const capture = join(CORPUS_PCAPS, 'tls-handshake.pcapng')
    const json = JSON.parse(runCli(['analyze', capture, '--port', '443', '--format', 'json']).stdout)
    const run = runCli(['analyze', capture, '--port', '443', '--format', 'table'])
    expect(run.status).toBe(1)
    const verdicts = (v: string) => json.connections.filter((c: {verdict: string}) => c.verdict === v).length
    expect(run.stdout).toContain(`58 connections to the Console: ${verdicts('pass')} pass, ${verdicts('warn')} warn, ${verdicts('fail')} fail`)
    expect(run.stdout.split('\n').filter((line) => /^#\d+ /.test(line))).toHaveLength(10)
  })

  it('leaves no report file behind when the capture cannot be read', () => {
    const out = join(tmp, 'never.ndjson')
    const run = runCli(['analyze', join(tmp, 'missing.pcap'), '-o', out])
    expect(run.status).toBe(2)
    expect(existsSync(out)).toBe(false)
  })

  it('reads the capture from stdin with "-"', () => {
    const run = runCli(['analyze', '-', '--format', 'json'], {input: readFileSync(SAMPLE)})
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout).source.kind).toBe('stdin')
  })

  it('exits 2 with one line naming the file and offset for a corrupt capture', () => {
    const bad = join(tmp, 'bad-magic.pcap')
    writeFileSync(bad, Buffer.from('this is not a capture file at all'))
    const run = runCli(['analyze', bad])
    expect(run.status).toBe(2)
    const lines = run.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(bad)
    expect(lines[0]).toMatch(/byte 0/)
    expect(run.stdout).toBe('')
  })

  it('exits 2 for a missing file, an empty file and a bad flag value', () => {
    const missing = runCli(['analyze', join(tmp, 'nope.pcap')])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain('nope.pcap')
    const empty = join(tmp, 'empty.pcap')
    writeFileSync(empty, '')
    const emptyRun = runCli(['analyze', empty])
    expect(emptyRun.status).toBe(2)
    expect(emptyRun.stderr).toMatch(/empty/i)
    const badPort = runCli(['analyze', SAMPLE, '--port', '70000'])
    expect(badPort.status).toBe(2)
    expect(badPort.stderr).toMatch(/--port/)
    const badPin = runCli(['analyze', SAMPLE, '--pin', 'md5:abc'])
    expect(badPin.status).toBe(2)
  })

  it('a capture cut mid-record is analyzed and reported as truncated (exit follows the verdict)', () => {
    const whole = readFileSync(SAMPLE)
    const cut = join(tmp, 'cut.pcap')
    writeFileSync(cut, whole.subarray(0, whole.length - 7))
    const run = runCli(['analyze', cut, '--format', 'json'])
    expect(run.status === 0 || run.status === 1).toBe(true)
    const report = JSON.parse(run.stdout)
    expect(report.source.capture.truncatedTail.offset).toBeGreaterThan(0)
    expect(report.source.issues.map((i: {code: string}) => i.code)).toContain('capture.truncated')
  })

  it('probe output follows the same JSON schema and exit codes (refused: exit 1)', () => {
    // Port 1 on loopback: nothing listens there, the kernel answers RST at once.
    const run = runCli(['probe', '127.0.0.1:1', '--json', '--timeout', '2s'])
    expect(run.status).toBe(1)
    const report = JSON.parse(run.stdout)
    expect(validateReport(report)).toEqual([])
    expect(report.connections[0].facts.kind).toBe('probe')
    expect(report.connections[0].checks.find((c: {id: string}) => c.id === 'tcp.syn-ack').status).toBe('fail')
  })

  it('has help with examples', () => {
    const run = runCli(['analyze', '--help'])
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('EXAMPLES')
    expect(run.stdout).toContain('--min-tls')
  })
})
