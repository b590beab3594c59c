/**
 * A flag value oclif refuses is one line that says why (exit 2): oclif puts the reason on the
 * line after "Parsing --jobs", which the one-line error used to drop ("Parsing --jobs ").
 */
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

const CAPTURE = 'fixtures/tcp/refused/refused.pcap'

describe('a refused flag value', () => {
  it('--jobs 0 says what --jobs takes', () => {
    const result = runCli(['analyze', CAPTURE, '--jobs', '0'])
    expect(result.status).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('defender-check: Parsing --jobs: Expected an integer greater than or equal to 1 but received: 0\nSee --help for usage.\n')
  })

  it('--storm-attempts x says it wants an integer', () => {
    const result = runCli(['analyze', CAPTURE, '--storm-attempts', 'x'])
    expect(result.status).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe('defender-check: Parsing --storm-attempts: Expected an integer but received: x')
  })
})
