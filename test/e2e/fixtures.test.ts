/**
 * Every fixture folder with an expected.json goes through the whole pipeline and must give the
 * verdicts its README states. expected.json is written by the fixture's author from the
 * scenario (not from this tool's output):
 *   {args?: string[], capture?: string, frames?: number, verdict?: 'pass'|'fail',
 *    connections: [{client?: "ip:port"|null, server: "ip:port",
 *                   checks: {"tcp.syn": "pass" | {status, confidence?}, ...}}]}
 * `variants` (optional) repeat the same with other args: [{args, verdict?, connections}].
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {loadCaBundle} from '../../src/analysis/cert-policy.js'
import {buildPolicy, type PolicyInput} from '../../src/analysis/policy.js'
import {loadKeyStore} from '../../src/keys/store.js'
import type {ConnectionReport} from '../../src/model/report.js'
import {FIXTURES, ROOT, fixtureDirs} from '../helpers/paths.js'

type ExpectedCheck = string | {status: string; confidence?: string}
interface ExpectedConnection {
  client?: string | null
  server: string
  checks: Record<string, ExpectedCheck>
}
interface ExpectedRun {
  name?: string
  args?: string[]
  /** Shorthand for --port args (the TCP fixtures). */
  ports?: number[]
  verdict?: 'pass' | 'fail' | 'inconclusive'
  summary?: {verdict?: 'pass' | 'fail' | 'inconclusive'}
  frames?: number
  connections: ExpectedConnection[]
  otherTraffic?: {servers: Array<{ip: string; port: number; packets: number}>}
}
interface Expected extends ExpectedRun {
  capture?: string
  variants?: ExpectedRun[]
  /** The same capture analysed with other ports (TCP fixtures). */
  withPorts?: ExpectedRun
}


/** The analyze flags fixtures use, mapped the way the command maps them. */
function optionsFromArgs(args: string[], dir: string): {policy: PolicyInput; ca?: string; keylogs: string[]} {
  const policy: PolicyInput = {ports: []}
  const keylogs: string[] = []
  let ca: string | undefined
  const resolvePath = (p: string) => [join(dir, p), join(ROOT, p), p].find((c) => existsSync(c)) ?? p
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2)
    const value = inline ?? args[++i]
    switch (flag) {
      case '--port':
      case '-p':
        policy.ports!.push(value)
        break
      case '--console':
      case '-c':
        policy.console = value
        break
      case '--min-tls':
        policy.minTls = value
        break
      case '--ca':
        ca = resolvePath(value)
        policy.caFile = ca
        break
      case '--pin':
        policy.pin = value
        break
      case '--keylog':
      case '-k':
        keylogs.push(resolvePath(value))
        break
      default:
        throw new Error(`fixture uses an analyze flag this test does not map: ${args[i]}`)
    }
  }
  if (policy.ports!.length === 0) delete policy.ports
  return {policy, ca, keylogs}
}

function captureFile(dir: string, expected: Expected): string {
  if (expected.capture) return join(dir, expected.capture)
  const found = readdirSync(dir).filter((name) => /\.(pcap|pcapng|cap)(\.gz)?$/.test(name))
  if (found.length !== 1) throw new Error(`${dir}: expected exactly one capture file, found ${found.join(', ') || 'none'}`)
  return join(dir, found[0])
}

function endpoint(e: {ip: string; port: number}): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`
}

function findConnection(connections: ConnectionReport[], want: ExpectedConnection, used: Set<number>): ConnectionReport | undefined {
  return connections.find(
    (c) => !used.has(c.id) && endpoint(c.server) === want.server && (want.client == null || endpoint(c.client) === want.client),
  )
}

function argsOf(run: ExpectedRun, expected: Expected): string[] {
  if (run.args) return run.args
  if (run.ports) return run.ports.flatMap((port) => ['--port', String(port)])
  return expected.args ?? []
}

const dirs = fixtureDirs()

describe('fixtures give the verdicts their READMEs state', () => {
  it('finds the fixture folders', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(5)
  })

  const runs = dirs.flatMap((dir) => {
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected
    const name = relative(FIXTURES, dir)
    const all = [expected, ...(expected.variants ?? []), ...(expected.withPorts ? [expected.withPorts] : [])]
    return all.map((run, i) => [i === 0 ? name : `${name} (${run.name ?? argsOf(run, expected).join(' ')})`, dir, expected, run] as const)
  })

  it.each(runs)('%s', async (_name, dir, expected, run) => {
    const {policy, ca, keylogs} = optionsFromArgs(argsOf(run, expected), dir)
    // As the command does, but without SSLKEYLOGFILE from the environment: only the fixture's own keys.
    const {store: keys} = await loadKeyStore(keylogs, {})
    const report = await analyzeCapture(captureFile(dir, expected), {
      policy: buildPolicy(policy),
      certificates: {ca: ca === undefined ? undefined : loadCaBundle(ca)},
      keys,
    })
    // The same report when the file is read 1,499 bytes at a time: records cut across reads.
    const small = await analyzeCapture(captureFile(dir, expected), {
      policy: buildPolicy(policy),
      certificates: {ca: ca === undefined ? undefined : loadCaBundle(ca)},
      keys: (await loadKeyStore(keylogs, {})).store,
      readBytes: 1499,
    })
    expect(JSON.parse(JSON.stringify(small))).toEqual(JSON.parse(JSON.stringify(report)))
    if (run.frames !== undefined) expect(report.source.frames).toBe(run.frames)
    const verdict = run.verdict ?? run.summary?.verdict
    if (verdict !== undefined) expect(report.summary.verdict).toBe(verdict)
    if (run.otherTraffic) expect(report.otherTraffic?.servers).toEqual(run.otherTraffic.servers)
    expect(report.connections).toHaveLength(run.connections.length)
    const used = new Set<number>()
    for (const want of run.connections) {
      const conn = findConnection(report.connections, want, used)
      expect(conn, `connection to ${want.server} from ${want.client ?? 'any'}`).toBeDefined()
      used.add(conn!.id)
      for (const [id, expectedCheck] of Object.entries(want.checks)) {
        const got = conn!.checks.find((c) => c.id === id)
        const wantStatus = typeof expectedCheck === 'string' ? expectedCheck : expectedCheck.status
        const context = `${id} on #${conn!.id}: ${got?.summary}`
        expect(got?.status, context).toBe(wantStatus)
        if (typeof expectedCheck !== 'string' && expectedCheck.confidence) expect(got?.confidence, context).toBe(expectedCheck.confidence)
      }
    }
  })
})
