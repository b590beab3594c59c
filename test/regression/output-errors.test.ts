/**
 * Issue 16 item 5: a report that cannot be written (ENOSPC) is one line naming where it was going
 * and exit code 2 — not an uncaught exception with a stack trace and exit 1 ("a check failed").
 * /dev/full is a real device that fails every write with ENOSPC, as a full disk does; stdout is
 * opened on it for the child, as the shell does for `> /dev/full`.
 */
import {spawnSync} from 'node:child_process'
import {closeSync, existsSync, openSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {FIXTURES, ROOT} from '../helpers/paths.js'

const CAPTURE = join(FIXTURES, 'wss', 'node-mtls', 'capture.pcap')
const haveDevFull = existsSync('/dev/full')
if (!haveDevFull) console.warn('SKIPPED: /dev/full is absent: the ENOSPC tests are not run')

/** The CLI with its stdout on /dev/full. */
function toDevFull(args: string[]): {status: number | null; stderr: string} {
  const fd = openSync('/dev/full', 'w')
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'dev.js'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      env: {...process.env, NO_COLOR: '1', DEBUG: ''},
      timeout: 60_000,
    })
    return {status: run.status, stderr: run.stderr}
  } finally {
    closeSync(fd)
  }
}

const ENOSPC_LINE = /^defender-check: (stdout|\/dev\/full): cannot write the (HTML )?report: ENOSPC: no space left on device, write\n$/

describe.skipIf(!haveDevFull)('a report that cannot be written: one line, exit 2', () => {
  it.each(['json', 'ndjson', 'table', 'junit'])('stdout on /dev/full, -f %s', (format) => {
    const run = toDevFull(['analyze', CAPTURE, '-f', format])
    expect(run.stderr).toMatch(ENOSPC_LINE)
    expect(run.stderr).toContain('stdout: ')
    expect(run.status).toBe(2)
  })

  it('stdout on /dev/full, --json', () => {
    const run = toDevFull(['analyze', CAPTURE, '--json'])
    expect(run.stderr).toMatch(ENOSPC_LINE)
    expect(run.status).toBe(2)
  })

  it.each(['json', 'ndjson', 'table', 'junit'])('-o /dev/full, -f %s', (format) => {
    const run = runCli(['analyze', CAPTURE, '-f', format, '-o', '/dev/full'])
    expect(run.stderr).toBe('defender-check: /dev/full: cannot write the report: ENOSPC: no space left on device, write\n')
    expect(run.status).toBe(2)
  })

  it('--html /dev/full', () => {
    const run = runCli(['analyze', CAPTURE, '-f', 'json', '--html', '/dev/full'])
    expect(run.stderr).toBe('defender-check: /dev/full: cannot write the HTML report: ENOSPC: no space left on device, write\n')
    expect(run.status).toBe(2)
  })

  it('a reader that goes away (EPIPE) is not an error', () => {
    const run = spawnSync('sh', ['-c', `"${process.execPath}" bin/dev.js analyze "${CAPTURE}" -f json | head -c 10 >/dev/null`], {cwd: ROOT, encoding: 'utf8', env: {...process.env, DEBUG: ''}})
    expect(run.stderr).toBe('')
  })
})
