/**
 * Issue 16 item 6 and the --filter part of item 7, on the real CLI (bin/dev.js) and real tcpdump
 * on lo (the tests run as root, as in CI): tcpdump is started by the command, so a signal that
 * ends node must end tcpdump too — otherwise the root tcpdump is reparented to PID 1 and runs on.
 * The tcpdump child is found with `pgrep -P` before the signal; afterwards /proc must not hold it
 * (or only as a zombie awaiting its reaper).
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {createServer, connect, type Server} from 'node:net'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {tcpdumpArgs} from '../../src/capture/tcpdump.js'
import {ROOT} from '../helpers/paths.js'

const PORT = 25999
const WRITE_PORT = 25998
const ADDRESS = '127.0.5.9'

function haveTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], {stdio: 'ignore'})
    return process.getuid?.() === 0
  } catch {
    return false
  }
}
const canCapture = haveTcpdump()
if (!canCapture) console.warn('SKIPPED: tcpdump is missing or this is not root: the capture signal tests are not run')

interface Running {
  child: ChildProcess
  exited: Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
}

function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: ''}})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve) =>
    child.on('close', (status, signal) => resolve({status, signal, stdout, stderr})),
  )
  return {child, exited}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function tcpdumpChildOf(pid: number): number | undefined {
  try {
    const pids = execFileSync('pgrep', ['-P', String(pid), '-x', 'tcpdump'], {encoding: 'utf8'}).trim().split('\n').filter(Boolean)
    return pids.length > 0 ? Number(pids[0]) : undefined
  } catch {
    return undefined // pgrep exits 1 when nothing matches
  }
}

/** Live tcpdump processes whose command line holds `text` (read-only: pgrep -f). */
function tcpdumpsFiltering(text: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `^tcpdump .*${text}`], {encoding: 'utf8'}).trim().split('\n').filter(Boolean).map(Number).filter(alive)
  } catch {
    return []
  }
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`
  if (!existsSync(stat)) return false
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

/** tcpdump holds its capture socket: it has opened the interface and is about to say "listening on". */
function hasSocket(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'))
  } catch {
    return false
  }
}

/** Waits for the command's tcpdump to capture; its pid (also added to `tcpdumps`). */
async function tcpdumpStarted(run: Running, tcpdumps: number[]): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const pid = tcpdumpChildOf(run.child.pid!)
    if (pid !== undefined && hasSocket(pid)) {
      tcpdumps.push(pid)
      // The command reads "listening on" from tcpdump's stderr just after the socket is open
      // (a signal before that kills tcpdump and exits 128+n, with no report: not the case tested).
      await sleep(2000)
      return pid
    }
    if (run.child.exitCode !== null) break
    await sleep(50)
  }
  throw new Error(`the command started no tcpdump: ${(await run.exited).stderr}`)
}

describe.skipIf(!canCapture)('capture: signals and children', () => {
  let running: Running | undefined
  let server: Server | undefined
  /** Every tcpdump seen: one a failing test orphaned is stopped here, not left to run. */
  const seen: number[] = []
  afterEach(async () => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL')
    running = undefined
    for (const pid of seen.splice(0)) if (alive(pid)) process.kill(pid, 'SIGTERM')
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    server = undefined
  })

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)('%s stops tcpdump, the report is written, nothing is left behind', async (signal) => {
    running = startCli(['capture', '-i', 'lo', '--port', String(PORT), '-f', 'json'])
    const tcpdump = await tcpdumpStarted(running, seen)
    expect(alive(tcpdump)).toBe(true)
    running.child.kill(signal)
    const run = await running.exited
    // No Console traffic was captured: a report saying so, exit 1, as after Ctrl-C.
    expect(run.stderr).toBe('')
    expect(run.status).toBe(1)
    expect(JSON.parse(run.stdout)).toMatchObject({source: {kind: 'live', name: 'lo'}, summary: {verdict: 'fail'}})
    expect(alive(tcpdump), `tcpdump ${tcpdump} outlived the command`).toBe(false)
  })

  it('a second SIGTERM while stopping: tcpdump is killed, nothing is left behind', async () => {
    running = startCli(['capture', '-i', 'lo', '--port', String(PORT), '-f', 'json'])
    const tcpdump = await tcpdumpStarted(running, seen)
    running.child.kill('SIGTERM')
    running.child.kill('SIGTERM')
    await running.exited
    expect(alive(tcpdump), `tcpdump ${tcpdump} outlived the command`).toBe(false)
  })

  it('-w /dev/full: a write error naming the file, exit 2, no tcpdump left', async () => {
    server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => server!.listen(WRITE_PORT, ADDRESS, () => resolve()))
    running = startCli(['capture', '-i', 'lo', '--port', String(WRITE_PORT), '-w', '/dev/full', '-f', 'json'])
    // Packets for tcpdump to write, until the command gives up on its output file (tcpdump may
    // flush its pcap header at once, so this can end before any packet).
    let done = false
    void running.exited.then(() => (done = true))
    while (!done) {
      const tcpdump = tcpdumpChildOf(running.child.pid!)
      if (tcpdump !== undefined && !seen.includes(tcpdump)) seen.push(tcpdump)
      await new Promise<void>((resolve) => connect(WRITE_PORT, ADDRESS).on('close', () => resolve()).on('error', () => resolve()))
      await sleep(50)
    }
    const run = await running.exited
    expect(run.stderr).toBe('defender-check: /dev/full: cannot write the capture (-w): ENOSPC: no space left on device, write\n')
    expect(run.status).toBe(2)
    for (const pid of seen) expect(alive(pid), `tcpdump ${pid} outlived the command`).toBe(false)
    // Also one never seen as a child (the command may end within one poll): none runs this filter.
    expect(tcpdumpsFiltering(`port ${WRITE_PORT}`)).toEqual([])
  })

  it('--filter starting with "-" is a filter tcpdump rejects, not an option', async () => {
    running = startCli(['capture', '-i', 'lo', '--filter=-r/etc/passwd', '-f', 'json'])
    const run = await running.exited
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/^defender-check: tcpdump rejects the filter "-r\/etc\/passwd": /)
    expect(run.stdout).toBe('')
  })
})

describe("tcpdump's command line", () => {
  it('puts the filter after "--", so that it is never read as an option', () => {
    expect(tcpdumpArgs({interface: 'lo', filter: '-r/etc/passwd'})).toEqual(['-i', 'lo', '-U', '--immediate-mode', '-w', '-', '--', '-r/etc/passwd'])
    expect(tcpdumpArgs({interface: 'any', filter: ''})).toEqual(['-i', 'any', '-U', '--immediate-mode', '-w', '-'])
  })
})
