import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {ROOT} from './paths.js'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the real CLI (bin/dev.js: the TypeScript sources through tsx) as a user would. */
export function runCli(args: string[], options: {input?: string | Buffer; env?: NodeJS.ProcessEnv} = {}): CliResult {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {
    cwd: ROOT,
    input: options.input,
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1', DEBUG: '', ...options.env},
    timeout: 60_000,
  })
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}
