/**
 * Regression for what test/property/keylog.test.ts found: a key log line wrapped after its client
 * random (copied from a terminal or a mail) left the secret alone on the next line, and the
 * "not a key log line" issue quoted its first 40 hex digits — 20 bytes of a TLS secret in every
 * report. The same for an upper-case secret read as a label ("expected 3 fields"). Issues now say
 * how long the field is instead. On a real line of test/keys/tls13.keys (openssl s_client).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {describe, expect, it} from 'vitest'
import {parseKeyLog} from '../../src/keys/keylog.js'
import {ROOT} from '../helpers/paths.js'

const line = readFileSync(join(ROOT, 'test', 'keys', 'tls13.keys'), 'utf8')
  .split('\n')
  // A secret starting with a-f: in upper case it is a well-formed label.
  .find((l) => /^SERVER_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [a-f]/.test(l))!
const [label, random, secret] = line.split(' ') as [string, string, string]

describe('a secret out of place in a key log is never quoted in an issue', () => {
  it('is the real line read', () => {
    expect(secret).toMatch(/^[a-f][0-9a-f]{95}$/)
  })

  it.each([
    ['wrapped after the client random', `${label} ${random}\n${secret}`, 2, /^not a key log line .*starts with 96 characters with a run of hex digits/],
    ['wrapped, upper case (reads as a label)', `${label} ${random}\n${secret.toUpperCase()}`, 2, /^96 characters with a run of hex digits .*: expected 3 fields/],
    ['glued to its label', `${label}${secret.toUpperCase()}`, 1, /^127 characters with a run of hex digits .*: expected 3 fields/],
  ])('%s', (_name, text, issueLine, message) => {
    const log = parseKeyLog(text, 'wrapped.keys')
    const issue = log.issues.find((i) => i.line === issueLine)!
    expect(issue.message).toMatch(message)
    const shown = `${JSON.stringify(log.issues)}${inspect(log, {depth: Infinity})}`.toLowerCase()
    expect(shown).not.toContain(secret.slice(0, 16))
    expect(shown).not.toContain(secret.slice(40, 56))
  })

  it('still quotes a short first field that is not a label', () => {
    expect(parseKeyLog('client_random x y', 'k').issues[0]!.message).toBe(
      'not a key log line (expected LABEL CLIENT_RANDOM SECRET): starts with "client_random"',
    )
  })
})
