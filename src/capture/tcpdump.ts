/**
 * Live capture through tcpdump: `tcpdump -i IFACE -U --immediate-mode -w - FILTER` is spawned
 * (argument array, never a shell; the BPF filter is one argument), its stdout — a pcap stream,
 * packet-buffered by -U — goes through the same reader as a file, and optionally is written to a
 * file as it streams (tee). tcpdump is stopped with SIGINT, which makes it flush and exit; its
 * stdout is read to the end. SIGINT, SIGTERM and SIGHUP sent to node stop it the same way, and a
 * failure while reading or saving kills it: tcpdump never outlives the command. Start-up failures (tcpdump missing, no permission, no such
 * interface, a bad filter) are InputErrors/UsageErrors: one line, exit code 2.
 */
import {spawn, type ChildProcessByStdio} from 'node:child_process'
import {closeSync, openSync, writeSync} from 'node:fs'
import {constants as osConstants} from 'node:os'
import type {Readable} from 'node:stream'
import {InputError, UsageError} from '../errors.js'
import {readCaptureStream} from './source.js'
import type {CaptureSink, CaptureSummary} from './types.js'

export interface LiveCaptureOptions {
  /** tcpdump -i: an interface name, or 'any' (Linux cooked v2, link type 276). */
  interface: string
  /** BPF filter expression, one argument. */
  filter: string
  /** tcpdump -c: stop after this many packets. */
  count?: number
  /** Also write the raw pcap stream to this file. */
  writeFile?: string
  /** The tcpdump binary (default: tcpdump on PATH). */
  tcpdump?: string
}

/** tcpdump's command line for these options, for display and for spawn. */
export function tcpdumpArgs(options: LiveCaptureOptions): string[] {
  const args = ['-i', options.interface, '-U', '--immediate-mode', '-w', '-']
  if (options.count !== undefined) args.push('-c', String(options.count))
  // After `--` (getopt's end of options) a filter beginning with '-' (`--filter=-r/path`) is
  // read as a filter expression, which tcpdump then rejects, never as an option.
  if (options.filter.trim() !== '') args.push('--', options.filter)
  return args
}

/**
 * Signals that end a run while tcpdump captures. tcpdump runs as root in its own right: if node
 * dies of one of these (their default action), tcpdump is reparented to PID 1 and goes on until
 * its next matching packet. So while it runs they are handled: the first stops the capture as
 * Ctrl-C does (tcpdump gets SIGINT, flushes and exits, the report is written); a second, the user
 * insisting, kills tcpdump and ends node with the signal's conventional status, 128 + its number.
 */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** A running tcpdump whose pcap stream is being read into a sink. */
export class LiveCapture {
  /** Resolves with the capture summary once tcpdump has exited and its output is read. */
  readonly done: Promise<CaptureSummary>
  private stopped = false
  private exited = false
  private signalsSeen = 0

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    done: Promise<CaptureSummary>,
  ) {
    this.done = done
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.signalsSeen++ === 0) {
        this.stop()
        return
      }
      this.kill()
      process.exit(128 + (osConstants.signals[signal] ?? 0))
    }
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
    child.once('exit', () => {
      this.exited = true
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
    })
  }

  /** tcpdump's process id (tests check that it does not outlive the command). */
  get pid(): number | undefined {
    return this.child.pid
  }

  /** Spawns tcpdump and resolves when it says "listening on"; rejects with a one-line cause when it cannot start. */
  static async start(options: LiveCaptureOptions, sink: CaptureSink): Promise<LiveCapture> {
    const binary = options.tcpdump ?? 'tcpdump'
    const child = spawn(binary, tcpdumpArgs(options), {stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    const ready = new Promise<void>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => reject(startError(error, binary)))
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (text: string) => {
        stderr += text
        if (/listening on /.test(stderr)) resolve()
      })
      child.once('exit', (code, signal) => reject(exitError(stderr, options, code, signal)))
    })
    // A signal before tcpdump listens: nothing captured to report, only tcpdump to end.
    const beforeReady = (signal: NodeJS.Signals) => {
      child.kill('SIGKILL')
      process.exit(128 + (osConstants.signals[signal] ?? 0))
    }
    for (const signal of STOP_SIGNALS) process.on(signal, beforeReady)
    try {
      await ready
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, beforeReady)
    }
    const tee = options.writeFile === undefined ? undefined : openOutput(options.writeFile, child)
    const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
    const done = (async () => {
      try {
        const summary = await readCaptureStream(tee === undefined ? child.stdout : teeTo(child.stdout, tee, options.writeFile!), `tcpdump -i ${options.interface}`, sink)
        const {code, signal} = await exited
        // SIGINT (ours) and -c's normal end are both fine; anything else is tcpdump failing mid-way.
        if (code !== 0 && signal !== 'SIGINT' && code !== 130 && code !== null) throw new InputError(`tcpdump stopped with exit code ${code}: ${lastLine(stderr)}`)
        return summary
      } catch (error) {
        // Reading or saving failed (a bad stream, -w on a full disk): tcpdump must not outlive us.
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          await exited
        }
        throw error
      } finally {
        if (tee !== undefined) closeSync(tee)
      }
    })()
    // Read errors surface through `done`; keep an early one from being unhandled before it is awaited.
    done.catch(() => undefined)
    return new LiveCapture(child, done)
  }

  /** Asks tcpdump to stop (SIGINT: it flushes its buffer and exits); `done` then resolves. */
  stop(): void {
    if (this.stopped || this.exited) return
    this.stopped = true
    this.child.kill('SIGINT')
  }

  /** Stops tcpdump if a caller is leaving early (process exit); no output is waited for. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL')
  }
}

function openOutput(file: string, child: ChildProcessByStdio<null, Readable, Readable>): number {
  try {
    return openSync(file, 'w')
  } catch (error) {
    child.kill('SIGKILL')
    throw new InputError(`cannot write the capture (-w): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, file)
  }
}

/**
 * Passes the stream on while writing every chunk to `fd`, in order, before it is parsed. A write
 * error is the output file's (ENOSPC, EIO), named as such: not a read error of tcpdump's stream.
 */
async function* teeTo(stream: Readable, fd: number, file: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    try {
      writeSync(fd, chunk as Buffer)
    } catch (error) {
      throw new InputError(`cannot write the capture (-w): ${(error as Error).message}`, file)
    }
    yield chunk as Buffer
  }
}

const INSTALL_HINT = 'install it: apt-get install tcpdump (Debian/Ubuntu), dnf install tcpdump (RHEL/Fedora), apk add tcpdump (Alpine)'

function startError(error: NodeJS.ErrnoException, binary: string): Error {
  if (error.code === 'ENOENT') return new InputError(`${binary} is not installed (not found on PATH): ${INSTALL_HINT}`)
  if (error.code === 'EACCES') return new InputError(`${binary} cannot be run (permission denied on the program itself)`)
  return new InputError(`cannot start ${binary}: ${error.message}`)
}

/** tcpdump exited before listening: say why in the words an operator can act on. */
function exitError(stderr: string, options: LiveCaptureOptions, code: number | null, signal: NodeJS.Signals | null): Error {
  const text = stderr.trim()
  if (/permission|not permitted/i.test(text)) {
    return new InputError(`no permission to capture on ${options.interface}: run as root, or give tcpdump CAP_NET_RAW (setcap cap_net_raw,cap_net_admin=eip "$(command -v tcpdump)") (tcpdump: ${lastLine(text)})`)
  }
  if (/no such device|doesn't exist|no such interface|not found/i.test(text)) {
    return new InputError(`interface ${options.interface} does not exist (tcpdump -D lists the interfaces; "any" captures on all) (tcpdump: ${lastLine(text)})`)
  }
  if (/syntax error|can't parse filter|illegal/i.test(text)) return new UsageError(`tcpdump rejects the filter ${JSON.stringify(options.filter)}: ${lastLine(text)}`)
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`
  return new InputError(`tcpdump ${how} before capturing${text ? `: ${lastLine(text)}` : ''}`)
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '')
  return (lines.find((l) => /^tcpdump: /.test(l)) ?? lines[lines.length - 1] ?? '').replace(/^tcpdump: /, '').trim()
}
