/**
 * What a user expects of a CLI (issue 14 item 5), through the real CLI (bin/dev.js) as a user
 * runs it: help and -h, "did you mean" for a mistyped command without a terminal to prompt on,
 * shell completion, repeatable flags before the positional argument, a missing argument named,
 * --json beside -o/-f, FORCE_COLOR=0, every check id in `analyze --help`, and the piped table
 * in plain ASCII within 80 columns.
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {AnalysisReport} from '../../src/model/report.js'
import {CATALOGUE_IDS} from '../../src/checks/index.js'
import {CHECK_IDS} from '../../src/model/checks.js'
import {PIPED_WIDTH, renderReport, wantsColor} from '../../src/cli/output.js'
import {runCli, type CliResult} from '../helpers/cli.js'
import {FIXTURES, ROOT} from '../helpers/paths.js'
import {CERTS, startConsole, type RunningServer} from '../probe/servers.js'

const NODE_MTLS = join(FIXTURES, 'wss', 'node-mtls')
const CAPTURE = join(NODE_MTLS, 'capture.pcap')
const tmp = mkdtempSync(join(tmpdir(), 'defender-check-conventions-'))
const ESC = '\u001b['
// A key log copy and a completion cache.
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

/** The CLI with stdin closed at once, as in CI: nothing can answer a prompt. */
const runClosed = (args: string[], env: NodeJS.ProcessEnv = {}): CliResult => runCli(args, {input: '', env})

describe('help', () => {
  it('`help` lists every command, `-h` and `help analyze` show analyze\'s usage', () => {
    const help = runClosed(['help'])
    expect(help.status).toBe(0)
    for (const command of ['analyze', 'capture', 'probe', 'help', 'autocomplete']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
    expect(runClosed(['-h']).stdout).toMatch(/^  analyze /m)
    for (const args of [['analyze', '-h'], ['help', 'analyze'], ['analyze', '--help']]) {
      const run = runClosed(args)
      expect(run.status, args.join(' ')).toBe(0)
      expect(run.stdout, args.join(' ')).toContain('$ defender-check analyze CAPTURE')
    }
  })

  it('`analyze --help` lists every check id of the catalogue', () => {
    const run = runClosed(['analyze', '--help'])
    expect(CATALOGUE_IDS.length).toBe(CHECK_IDS.length)
    const text = run.stdout.replace(/\s+/g, ' ')
    for (const id of CATALOGUE_IDS) expect(text, id).toMatch(new RegExp(`[ ,:]${id.replace('.', '\\.')}[ ,(]`))
  })
})

describe('a mistyped command, without a terminal', () => {
  it('`analyse` suggests `analyze` in one line and exits 2 instead of waiting for an answer', () => {
    const run = runClosed(['analyse', CAPTURE])
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe('defender-check: "analyse" is not a defender-check command. Did you mean "analyze"? Run "defender-check help" for the list.\n')
  })

  it('with stdin not even open (stdio ignore) it ends the same way; a word far from every command gets no guess', () => {
    const ignored = spawnSync(process.execPath, [join(ROOT, 'bin', 'dev.js'), 'prob', 'x'], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000, env: {...process.env, DEBUG: ''}})
    expect(ignored.status).toBe(2)
    expect(ignored.stderr).toContain('Did you mean "probe"?')
    const far = runClosed(['frobnicate'])
    expect(far.status).toBe(2)
    expect(far.stderr).toBe('defender-check: "frobnicate" is not a defender-check command. Run "defender-check help" for the list.\n')
  })
})

describe('a mistyped command on a terminal (script(1) gives the CLI a pty)', () => {
  /** The CLI on a pty, `keys` typed at once (the pty holds them until the prompt reads them). */
  const onTty = (args: string[], keys: string): Promise<CliResult> =>
    new Promise((resolve) => {
      const command = [process.execPath, join(ROOT, 'bin', 'dev.js'), ...args].join(' ')
      const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: ''}})
      let stdout = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stdin.write(keys)
      // Only a hang guard: a wrong suggestion (`capture`) would capture until stopped. A hangup
      // ends script(1)'s session and every process in it.
      const hang = setTimeout(() => child.kill('SIGHUP'), 45_000)
      child.on('close', (status) => {
        clearTimeout(hang)
        resolve({status, stdout, stderr: ''})
      })
    })

  it('plugin-not-found asks "Did you mean analyze?"; yes runs analyze with the arguments given', async () => {
    const run = await onTty(['analyse', CAPTURE, '-f', 'json'], 'y\r')
    expect(run.stdout).toContain('Did you mean analyze?')
    expect(run.status).toBe(0)
    const json = run.stdout.slice(run.stdout.indexOf('{'))
    expect((JSON.parse(json) as AnalysisReport).connections).toHaveLength(1)
  })

  it('no: the plugin\'s exit code 127, and nothing else ran', async () => {
    const run = await onTty(['analyse', CAPTURE, '-f', 'json'], 'n\r')
    expect(run.stdout).toContain('Did you mean analyze?')
    expect(run.stdout).not.toContain('schemaVersion')
    expect(run.status).toBe(127)
  })
})

describe('shell completion', () => {
  it('`autocomplete` builds a bash completion that completes commands and flags', () => {
    const env = {XDG_CACHE_HOME: join(tmp, 'cache')}
    expect(runClosed(['autocomplete', '--refresh-cache'], env).status).toBe(0)
    const setup = runClosed(['autocomplete', 'script', 'bash'], env)
    expect(setup.status).toBe(0)
    expect(setup.stdout).toContain(join(tmp, 'cache'))
    // The line a user appends to ~/.bashrc, then what bash's programmable completion calls.
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `${setup.stdout}\nCOMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE="${words.join(' ')}"; _defender-check_autocomplete; echo "\${COMPREPLY[*]}"`], {encoding: 'utf8'}).trim()
    expect(complete(['defender-check', 'ana'])).toBe('analyze')
    expect(complete(['defender-check', 'analyze', '--key'])).toBe('--keylog')
    expect(complete(['defender-check', 'probe', '--subp'])).toBe('--subprotocol')
  })
})

describe('flags before the positional argument', () => {
  const keylog = join(tmp, 'keys.log')
  beforeAll(() => {
    copyFileSync(join(NODE_MTLS, 'keys.log'), keylog)
    chmodSync(keylog, 0o600)
  })

  it('`analyze -p 8084 FILE` and `-p 8084 -p 443,8085 FILE` read FILE as the capture', () => {
    for (const args of [['-p', '8084'], ['-p', '8084', '-p', '443,8085']]) {
      const run = runClosed(['analyze', ...args, CAPTURE, '-f', 'json'])
      expect(run.stderr, args.join(' ')).toBe('')
      const report = JSON.parse(run.stdout) as AnalysisReport
      expect(report.connections).toHaveLength(1)
      expect(report.policy.ports).toEqual(args.length === 2 ? [8084] : [8084, 443, 8085])
    }
  })

  it('`analyze --keylog k.log FILE` reads FILE and decrypts with k.log: every check observed', () => {
    const run = runClosed(['analyze', '--keylog', keylog, CAPTURE, '-f', 'json'])
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(report.connections[0].checks.every((check) => check.confidence === 'observed')).toBe(true)
  })

  it('a missing argument is named, with what it is, exit 2', () => {
    const analyze = runClosed(['analyze', '-p', '8084'])
    expect(analyze.status).toBe(2)
    expect(analyze.stderr.split('\n')[0]).toBe('defender-check: missing argument CAPTURE (capture file (pcap, pcapng, optionally gzip-compressed), or - for stdin)')
    const probe = runClosed(['probe', '-H', 'X-A: b'])
    expect(probe.status).toBe(2)
    expect(probe.stderr.split('\n')[0]).toMatch(/^defender-check: missing argument URL \(the Console: /)
  })
})

describe('probe -H "X-A: b" HOST', () => {
  let server: RunningServer
  const seen: Array<Record<string, string | string[] | undefined>> = []
  beforeAll(async () => {
    server = await startConsole({host: '127.0.2.1', port: 22084, onUpgrade: (headers) => seen.push(headers)})
  })
  afterAll(() => server.close())

  it('sends the header and probes HOST', async () => {
    const run = await runAsync(['probe', '-H', 'X-A: b', '-H', 'X-C: d', '127.0.2.1:22084', '--servername', 'console.test', '--ca', join(CERTS, 'console-ca.pem'), '--timeout', '5s', '-f', 'json'])
    expect(run.stderr).toBe('')
    const report = JSON.parse(run.stdout) as AnalysisReport
    expect(report.source.name).toBe('wss://127.0.2.1:22084/')
    expect(report.connections[0].checks.find((c) => c.id === 'ws.upgrade')?.status).toBe('pass')
    expect(seen.map((h) => [h['x-a'], h['x-c']])).toEqual([['b', 'd']])
  })
})

describe('--json with --output or --format', () => {
  it('prints the JSON report on stdout, writes no file, and says in one line what it ignored', () => {
    const file = join(tmp, 'ignored.xml')
    const run = runClosed(['analyze', CAPTURE, '--json', '-o', file, '-f', 'junit'])
    expect(run.status).toBe(0)
    expect((JSON.parse(run.stdout) as AnalysisReport).connections).toHaveLength(1)
    expect(existsSync(file)).toBe(false)
    expect(run.stderr).toBe(`defender-check: warning: --json writes the JSON report to stdout; --format junit and --output ${file} ignored\n`)
    expect(runClosed(['analyze', CAPTURE, '--json']).stderr).toBe('')
  })
})

describe('colour', () => {
  it('FORCE_COLOR=0 and =false turn colour off even on a terminal; FORCE_COLOR=1 on, NO_COLOR off', () => {
    const tty = {isTTY: true} as NodeJS.WriteStream
    expect(wantsColor(tty, {})).toBe(true)
    expect(wantsColor(tty, {FORCE_COLOR: '0'})).toBe(false)
    expect(wantsColor(tty, {FORCE_COLOR: 'false'})).toBe(false)
    expect(wantsColor(tty, {NO_COLOR: '1'})).toBe(false)
    expect(wantsColor({isTTY: false} as NodeJS.WriteStream, {FORCE_COLOR: '1'})).toBe(true)
  })

  it('on a real terminal (script(1) gives the CLI a pty) FORCE_COLOR=0 prints the table without escape codes', () => {
    const onTty = (forceColor: string) =>
      execFileSync('script', ['-qec', `${process.execPath} ${join(ROOT, 'bin', 'dev.js')} analyze ${CAPTURE} -f table`, '/dev/null'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {...process.env, NO_COLOR: '', FORCE_COLOR: forceColor, TERM: 'xterm', DEBUG: ''},
      })
    expect(onTty('1')).toContain(ESC)
    const plain = onTty('0')
    expect(plain).toContain('tls.client-certificate')
    expect(plain).not.toContain(ESC)
  })
})

describe('the table piped', () => {
  it('is plain ASCII within 80 columns (the CLI on a pipe)', () => {
    const run = runClosed(['analyze', join(FIXTURES, 'tls', 'node13-noclientcert-requested-optional', 'capture.pcap'), '-f', 'table', '--timeline'], {NO_COLOR: ''})
    expect(run.stdout).toContain('tls.client-certificate')
    expectPlain80(run.stdout)
  })

  it('is plain ASCII within 80 columns for every fixture capture, every connection with its ladder', async () => {
    const captures = readdirSync(FIXTURES, {recursive: true, encoding: 'utf8'}).filter((name) => /\.pcap(ng)?$/.test(name))
    expect(captures.length).toBeGreaterThan(30)
    for (const name of captures) {
      const report = await analyzeCapture(join(FIXTURES, name), {policy: buildPolicy({ports: ['any']})})
      expectPlain80(renderReport(report, 'table', {color: false, width: PIPED_WIDTH, timeline: true, all: true}), name)
    }
  })
})

function expectPlain80(text: string, what = ''): void {
  for (const line of text.split('\n')) {
    expect(line.length, `${what}: ${line}`).toBeLessThanOrEqual(80)
    expect(line, what).toMatch(/^[\x20-\x7e]*$/)
  }
}

function runAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1', DEBUG: '', HTTPS_PROXY: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

