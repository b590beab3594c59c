/**
 * Issue 15: `analyze --ca missing.pem` printed "internal error: Parsing --ca" and oclif's
 * details over several lines. An unreadable --ca is bad input like any file: exit 2 and one
 * stderr line naming the file, the same from analyze, capture and probe (analyze and capture
 * share loadCaBundle; the probe reads it with its other credentials, before any connection).
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {FIXTURES} from '../helpers/paths.js'

const tmp = mkdtempSync(join(tmpdir(), 'defender-check-ca-errors-'))
const MISSING = join(tmp, 'missing.pem')
const NOT_PEM = join(tmp, 'not-a-ca.pem')
writeFileSync(NOT_PEM, 'not a certificate\n')
const CAPTURE = join(FIXTURES, 'tls', 'openssl12-mtls', 'capture.pcap')

function expectOneLine(args: string[], file: string, words: RegExp): void {
  const run = runCli(args, {env: {HTTPS_PROXY: '', https_proxy: ''}})
  expect(run.status).toBe(2)
  expect(run.stdout).toBe('')
  const lines = run.stderr.split('\n').filter((line) => line !== '')
  expect(lines, run.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^defender-check: /)
  expect(lines[0]).toContain(file)
  expect(lines[0]).toMatch(words)
  expect(lines[0]).not.toContain('internal error')
}

describe('--ca that cannot be used: exit 2, one line naming the file', () => {
  it('analyze --ca missing.pem', () => {
    expectOneLine(['analyze', CAPTURE, '--ca', MISSING, '--format', 'json'], MISSING, /cannot read the CA bundle.*ENOENT/)
  })

  it('analyze --ca with a file that holds no PEM certificate', () => {
    expectOneLine(['analyze', CAPTURE, '--ca', NOT_PEM, '--format', 'json'], NOT_PEM, /no PEM certificate/)
  })

  it('capture --ca missing.pem (before tcpdump starts)', () => {
    expectOneLine(['capture', '--ca', MISSING, '--duration', '1s', '--format', 'json'], MISSING, /cannot read the CA bundle.*ENOENT/)
  })

  it('probe --ca missing.pem (before any connection)', () => {
    expectOneLine(['probe', 'wss://127.0.4.9:24999/', '--ca', MISSING, '--format', 'json'], MISSING, /cannot read the CA bundle.*ENOENT/)
  })
})
