/**
 * The oclif layer's one shared piece: how a command ends on an error. A user error (bad file,
 * bad flag value) is one line on stderr and exit code 2; anything else is a bug, shown with its
 * stack only when DEBUG is set.
 */
import {Command, Errors} from '@oclif/core'
import {describeUserError} from '../errors.js'

export abstract class BaseCommand extends Command {
  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    const line = describeUserError(error)
    if (line !== undefined) {
      process.stderr.write(`defender-check: ${line}\n`)
      if (process.env.DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
      this.exit(2)
    }
    if (error instanceof Errors.CLIError) {
      // oclif's own flag/argument errors: usage errors, exit code 2.
      process.stderr.write(`defender-check: ${error.message.split('\n')[0]}\nSee --help for usage.\n`)
      this.exit(2)
    }
    process.stderr.write(`defender-check: internal error: ${error.message}${process.env.DEBUG ? '' : ' (set DEBUG=1 for details)'}\n`)
    if (process.env.DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    this.exit(2)
  }
}
