/**
 * Errors that end a run with exit code 2 and one clear line. Everything else that escapes is a
 * bug and is reported as such (with a stack only when DEBUG is set).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  readonly exitCode = 2
}

/** An input (file, key log, CA bundle) that cannot be used; `file` and `offset` name where. */
export class InputError extends Error {
  override readonly name = 'InputError'
  readonly exitCode = 2
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message)
  }
}

/**
 * One line for the user, naming the file and byte offset where there is one. Returns undefined
 * for errors that are not ours (bugs), which the caller reports with a stack under DEBUG.
 */
export function describeUserError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const withCode = error as Error & {code?: unknown; offset?: unknown; file?: unknown}
  if (error.name === 'CaptureFormatError') {
    const where = typeof withCode.file === 'string' ? `${withCode.file}: ` : ''
    const offset = typeof withCode.offset === 'number' ? `at byte ${withCode.offset}: ` : ''
    return `${where}${offset}${error.message}`
  }
  if (error instanceof InputError) {
    const where = error.file ? `${error.file}: ` : ''
    const offset = error.offset === undefined ? '' : `at byte ${error.offset}: `
    return `${where}${offset}${error.message}`
  }
  if (error instanceof UsageError) return error.message
  return undefined
}
