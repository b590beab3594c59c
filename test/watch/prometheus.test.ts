/**
 * End to end with real parts (issue 20): a real Prometheus server (Debian's `prometheus`) scrapes
 * `defender-check watch` (the CLI, from sources) which holds a session to a real mTLS WebSocket
 * Console (node:https + ws), all on loopback. Prometheus' HTTP API must show the channel up,
 * then, once the Console is stopped, down with the failed reconnects counted, then up again
 * when the Console is back. No timing is asserted: each condition is polled with a generous
 * bound that fails naming what was awaited.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {validateNdjsonLine} from '../../src/report/schema.js'
import {ROOT} from '../helpers/paths.js'
import {requireTool} from '../helpers/tools.js'
import {HOST, startWellBehavedConsole, waitFor, type WellBehavedConsole} from './consoles.js'

const CONSOLE_PORT = 28021
const METRICS = `${HOST}:28464`
const PROMETHEUS = `${HOST}:28090`

const children: ChildProcess[] = []
const dirs: string[] = []
let console: WellBehavedConsole | undefined

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await console?.close()
  for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
})

/** The instant vector of a PromQL query, as [labels, value] pairs. */
async function query(promql: string): Promise<Array<{metric: Record<string, string>; value: number}>> {
  const response = await fetch(`http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(promql)}`)
  const body = (await response.json()) as {status: string; error?: string; data?: {result: Array<{metric: Record<string, string>; value: [number, string]}>}}
  if (body.status !== 'success') throw new Error(`Prometheus refused ${promql}: ${body.error}`)
  return body.data!.result.map((r) => ({metric: r.metric, value: Number(r.value[1])}))
}

/** Waits until `promql` returns at least one series; fails after the bound naming the query. */
function until(promql: string, boundMs = 60_000) {
  return waitFor(`Prometheus to answer ${promql}`, async () => {
    const result = await query(promql).catch(() => [])
    return result.length > 0 ? result : undefined
  }, boundMs)
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))))
}

describe('watch scraped by a real Prometheus', () => {
  it('shows up == 1, then the reconnects and up == 0 when the Console stops, then up again', async () => {
    requireTool('prometheus')
    const dir = mkdtempSync(join(tmpdir(), 'dc8-prometheus-'))
    dirs.push(dir)
    console = await startWellBehavedConsole(CONSOLE_PORT)

    let stdout = ''
    let stderr = ''
    const watch = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), 'watch', `wss://${HOST}:${CONSOLE_PORT}/`, '--servername', 'console.test', '--defender-certs', join(ROOT, 'fixtures', 'certs', 'defender'), '--ping-interval', '1s', '--timeout', '2s', '--interval', '10s', '--max-backoff', '2s', '--listen', METRICS, '-f', 'ndjson'], {
      cwd: ROOT,
      env: {...process.env, NO_COLOR: '1', DEBUG: ''},
    })
    children.push(watch)
    watch.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    watch.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))

    writeFileSync(
      join(dir, 'prometheus.yml'),
      ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', '  - job_name: defender-check', '    static_configs:', `      - targets: ['${METRICS}']`, ''].join('\n'),
    )
    const prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROMETHEUS}`, '--log.level=warn'], {stdio: 'ignore'})
    children.push(prometheus)

    const up = await until('defender_check_up == 1')
    expect(up[0]!.metric).toMatchObject({job: 'defender-check', instance: METRICS})
    await until('defender_check_check_status{check="ws.upgrade",status="pass"} == 1')
    await until('defender_check_certificate_expires_in_seconds{certificate="client"} > 0')

    await console.close()
    console = undefined
    await until('defender_check_up == 0')
    // Failed reconnects, backing off: the attempts keep coming and keep failing.
    await until('defender_check_connection_attempts_total{result="failed"} >= 2')
    await until('defender_check_sessions_total{end_reason="refused"} >= 2')
    await until('sum(defender_check_sessions_total{end_reason=~"fin|rst"}) >= 1')
    // The exporter itself stayed up: the channel is down, not the watch.
    await until('up{job="defender-check"} == 1')

    console = await startWellBehavedConsole(CONSOLE_PORT)
    await until('defender_check_up == 1 and on(instance) defender_check_connection_attempts_total{result="established"} >= 2')

    watch.kill('SIGINT')
    const code = await exited(watch)
    expect(stderr).not.toMatch(/internal error|Error:/)
    expect([0, 1]).toContain(code)
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as {type: string; [key: string]: unknown})
    const defender = lines.find((l) => l.type === 'defender') as unknown as {connections: number; endings: Array<{reason: string; by: string; count: number}>}
    expect(defender.connections).toBeGreaterThanOrEqual(4)
    expect(defender.endings).toContainEqual(expect.objectContaining({reason: 'refused', by: 'server'}))
    expect(defender.endings).toContainEqual({reason: 'ws-close', by: 'client', count: 1})
    expect(lines.at(-1)!.type).toBe('summary')
    // The end lines are analyze's (report/ndjson.ts): the same schema line shapes.
    expect(validateNdjsonLine(defender)).toEqual([])
    expect(validateNdjsonLine(lines.at(-1))).toEqual([])

    prometheus.kill('SIGTERM')
    await exited(prometheus)
  }, 240_000)
})
