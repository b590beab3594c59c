/**
 * `defender-check watch` as a user runs it (bin/dev.js): usage errors are one line and exit 2;
 * SIGTERM ends it cleanly with the summary; -f json keeps stdout one JSON document (the events go
 * to stderr); no secret in any output.
 */
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import {runCli} from '../helpers/cli.js'
import {ROOT} from '../helpers/paths.js'
import {CERTS} from '../probe/servers.js'
import {HOST, startWellBehavedConsole, waitFor, type WellBehavedConsole} from './consoles.js'

let console: WellBehavedConsole | undefined
afterAll(async () => console?.close())

describe('watch on the command line', () => {
  it.each([
    [['--listen', 'nowhere'], /--listen "nowhere": expected host:port/],
    [['--ping-interval', 'soon'], /--ping-interval "soon": expected a duration/],
    [['--max-backoff', '0s'], /--max-backoff must be longer than 0/],
  ])('%j is a usage error: one line, exit 2', (flags, message) => {
    const run = runCli(['watch', `${HOST}:28041`, ...flags])
    expect(run.stderr).toMatch(message)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.status).toBe(2)
  })

  it('SIGTERM: the session is closed with 1000 and -f json writes the summary report alone on stdout', async () => {
    console = await startWellBehavedConsole(28042)
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), 'watch', `wss://${HOST}:28042/`, '--servername', 'console.test', '--defender-certs', join(CERTS, 'defender'), '--ping-interval', '500ms', '-f', 'json'], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    await waitFor('the session to be established (an event line on stderr)', () => (/session 1 established/.test(stderr) ? true : undefined), 60_000)
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
    // Every session the Console served (the held one, and the full probe's own) ended with a 1000 close.
    expect(console.closeCodes.length).toBe(console.upgrades)
    expect(new Set(console.closeCodes)).toEqual(new Set([1000]))
    const report = JSON.parse(stdout) as AnalysisReport
    const defender = report.defenders!.defenders[0]!
    expect(defender.sessions[0]!.end).toMatchObject({reason: 'ws-close', by: 'client', wsCloseCode: 1000})
    expect(defender.pingIntervalSeconds).toBe(0.5)
    expect(report.connections[0]!.verdict).toBe('pass')
    expect(code).toBe(0)
    const passphrase = readFileSync(join(CERTS, 'defender', 'service-parameter'), 'utf8')
    expect(stdout + stderr).not.toContain(passphrase)
  })
})
