/**
 * The oclif layer's shared pieces: how a command ends on an error (a user error, such as a bad
 * file or flag value, is one line on stderr and exit code 2; anything else is a bug, shown with
 * its stack only when DEBUG is set), and how the process's heap may grow.
 */
import {setFlagsFromString} from 'node:v8'
import {Command, Errors} from '@oclif/core'
import {describeUserError} from '../errors.js'
import {watchStdout} from './output.js'

/**
 * After each full garbage collection V8 lets the old generation grow to up to 4x what survived
 * it. A big capture churns through short-lived connection state, and a collection that happens
 * to run while much of it is in flight (incremental marking keeps what is allocated meanwhile)
 * measured 112 MB live instead of the usual 48, after which the heap grew to 465 MB and the
 * process to 575 MB (bench file (b), 1 run in 3-4). At 2.5x the same capture peaked at 237-238 MB
 * in every run and took as long (9.4 s; 150 %: fewer, cheaper collections than 100 %, 10.1 s).
 * V8 reads this flag at every collection, so setting it once the process runs takes effect.
 */
const HEAP_GROWING_PERCENT = 150

/** An oclif usage error in one line; a missing argument is named, with what it is. */
export function usageErrorLine(error: Error): string {
  // oclif's RequiredArgsError is not exported: it is the parse error that carries the missing `args`.
  const missing = (error as {args?: unknown}).args
  if (/^Missing \d+ required arg/.test(error.message) && Array.isArray(missing)) {
    const named = (missing as Array<{name?: string; description?: string}>).filter((arg) => arg.name)
    if (named.length > 0) return `missing argument ${named.map((arg) => `${arg.name!.toUpperCase()} (${arg.description ?? 'required'})`).join(', ')}`
  }
  // A flag's value refused: "Parsing --jobs \n\tExpected an integer greater than or equal to 1 but
  // received: 0\nSee more help with --help" is said on one line, the reason kept.
  const [first, second] = error.message.split('\n')
  if (/^Parsing --\S+\s*$/.test(first!) && second !== undefined && second.trim() !== '') return `${first!.trim()}: ${second.trim()}`
  return first!
}

export abstract class BaseCommand extends Command {
  public override async init(): Promise<void> {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
    // A report that cannot be written to stdout (ENOSPC) is one line and exit code 2, not oclif's uncaught rethrow.
    watchStdout()
    await super.init()
  }

  /**
   * --json prints the JSON report on stdout (oclif's convention for machine output); --format
   * and --output name another destination. Rather than guess which one was meant, the report
   * goes to stdout as JSON and one line on stderr says what was not honoured.
   */
  protected noteIgnoredWithJson(flags: {format?: string; output?: string}): void {
    if (!this.jsonEnabled()) return
    const ignored = [flags.format !== undefined ? `--format ${flags.format}` : undefined, flags.output !== undefined ? `--output ${flags.output}` : undefined].filter((flag) => flag !== undefined)
    if (ignored.length > 0) process.stderr.write(`defender-check: warning: --json writes the JSON report to stdout; ${ignored.join(' and ')} ignored\n`)
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    const line = describeUserError(error)
    if (line !== undefined) {
      process.stderr.write(`defender-check: ${line}\n`)
      if (process.env.DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
      this.exit(2)
    }
    if (error instanceof Errors.CLIError) {
      // oclif's own flag/argument errors: usage errors, exit code 2. oclif lists a missing
      // argument on the lines after "Missing 1 required arg:", which the one line would drop.
      process.stderr.write(`defender-check: ${usageErrorLine(error)}\nSee --help for usage.\n`)
      this.exit(2)
    }
    process.stderr.write(`defender-check: internal error: ${error.message}${process.env.DEBUG ? '' : ' (set DEBUG=1 for details)'}\n`)
    if (process.env.DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    this.exit(2)
  }
}
