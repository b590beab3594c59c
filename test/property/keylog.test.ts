/**
 * NSS key log parsing (src/keys/keylog.ts) on real key logs from `openssl s_client -keylogfile`
 * (test/keys/*.keys) edited at line level, and on arbitrary text: parseKeyLog never throws,
 * finishes in bounded time, gives issues with 1-based line numbers inside the text, never shows
 * a secret in JSON.stringify or util.inspect of what it returns, and parses LF and CRLF files,
 * and a file cut in two at a line boundary, to the same sessions.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {inspect} from 'node:util'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {type KeyLog, mergeKeyLogs, parseKeyLog} from '../../src/keys/keylog.js'
import {ROOT} from '../helpers/paths.js'
import {params, timed} from './support.js'

const REAL = ['tls13', 'tls12'].map((name) => readFileSync(join(ROOT, 'test', 'keys', `${name}.keys`), 'utf8'))
const REAL_LINES = REAL.flatMap((text) => text.split('\n').filter((line) => line !== ''))

const hexChar = fc.constantFrom(...'0123456789abcdefABCDEF')
const hexOf = (min: number, max: number): fc.Arbitrary<string> => fc.string({unit: hexChar, minLength: min, maxLength: max})
const label = fc.constantFrom(
  'CLIENT_RANDOM',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EXPORTER_SECRET',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'EARLY_EXPORTER_SECRET',
  'ECH_SECRET',
  'client_random',
  '',
)
const separator = fc.constantFrom(' ', '  ', '\t', ' \t', '\u00a0', '\v', '')
/** A key-log-like line: right shape, wrong lengths, odd separators, or a real line. */
const lineArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...REAL_LINES),
  fc
    .tuple(label, separator, hexOf(60, 68), separator, fc.constantFrom(64, 96, 62, 98, 0).chain((n) => hexOf(n, n)), fc.constantFrom('', ' ', '\r', ' extra'))
    .map((parts) => parts.join('')),
  fc.constantFrom('', '#', '# comment', '\uFEFF', '\r', ' '),
  fc.string({maxLength: 120}),
  fc.string({unit: 'grapheme', maxLength: 40}),
)
const logArb = fc.array(lineArb, {maxLength: 40}).map((lines) => lines.join('\n'))

/** Every secret the log holds, as hex. */
function secretsOf(log: KeyLog): string[] {
  const out: string[] = []
  for (const session of log.sessions.values()) for (const name of session.names) out.push(Buffer.from(session[name]!).toString('hex'))
  return out
}

/** Sessions and their secrets, hex, sorted: what a parse means to the decryption. */
function sessionsOf(log: KeyLog): string[] {
  return [...log.sessions.values()].flatMap((s) => s.names.map((name) => `${s.clientRandom} ${name} ${Buffer.from(s[name]!).toString('hex')}`)).sort()
}

function checkLog(text: string): KeyLog {
  const log = timed('parseKeyLog', () => parseKeyLog(text, 'fuzz.keys'))
  const lineCount = text.split('\n').length
  for (const issue of log.issues) {
    expect(Number.isInteger(issue.line)).toBe(true)
    expect(issue.line).toBeGreaterThanOrEqual(1)
    expect(issue.line).toBeLessThanOrEqual(lineCount)
    expect(issue.source).toBe('fuzz.keys')
  }
  expect(log.unknownLabels).toBeGreaterThanOrEqual(0)
  for (const [random, session] of log.sessions) {
    expect(random).toMatch(/^[0-9a-f]{64}$/)
    expect(session.clientRandom).toBe(random)
  }
  // The whole result as a report would show it, and as a debugger or console.log would.
  const shown = [JSON.stringify({...log, sessions: [...log.sessions.values()]}), inspect(log, {depth: Infinity}), inspect([...log.sessions.values()], {depth: Infinity})]
    .join('\n')
    .toLowerCase()
  for (const secret of secretsOf(log)) {
    expect(shown).not.toContain(secret)
    // Nor a large part of it: any 16 hex digits (8 bytes) of the secret.
    for (let at = 0; at + 16 <= secret.length; at += 8) expect(shown).not.toContain(secret.slice(at, at + 16))
  }
  return log
}

describe('parseKeyLog', () => {
  it('never throws on key-log-like and arbitrary text; issue lines are 1-based and inside the text; secrets never shown', () => {
    fc.assert(
      fc.property(logArb, (text) => {
        checkLog(text)
      }),
      params(2000),
    )
  })

  it('never throws on arbitrary large text, in bounded time', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 200_000}), (text) => {
        checkLog(text)
      }),
      params(50),
    )
  })

  it('real key logs with lines dropped, duplicated or reordered: secrets never shown', () => {
    const realLines = REAL.map((text) => text.split('\n'))
    fc.assert(
      fc.property(fc.integer({min: 0, max: realLines.length - 1}), fc.array(fc.nat(), {minLength: 1, maxLength: 60}), (file, picks) => {
        const lines = realLines[file]!
        const log = checkLog(picks.map((p) => lines[p % lines.length]!).join('\n'))
        expect(log.sessions.size).toBeGreaterThanOrEqual(0)
      }),
      params(300),
    )
  })

  it('a secret out of place (wrapped onto its own line, in either case, or first on the line) is never echoed in an issue', () => {
    const keyLines = REAL_LINES.filter((line) => !line.startsWith('#')).map((line) => line.split(' ') as [string, string, string])
    fc.assert(
      fc.property(
        fc.constantFrom(...keyLines),
        fc.constantFrom('wrapped', 'wrapped-upper', 'secret-first', 'secret-only-upper', 'label-secret'),
        ([label, random, secret], how) => {
          const text = {
            wrapped: `${label} ${random}\n${secret}`,
            'wrapped-upper': `${label} ${random}\n${secret.toUpperCase()}`,
            'secret-first': `${secret} ${label} ${random}`,
            'secret-only-upper': `# next line lost its label\n${secret.toUpperCase()} ${random}`,
            'label-secret': `${label}${secret.toUpperCase()}`,
          }[how]
          const log = checkLog(text)
          const shown = JSON.stringify(log.issues).toLowerCase() + inspect(log, {depth: Infinity}).toLowerCase()
          expect(log.issues.length).toBeGreaterThan(0)
          for (let at = 0; at + 16 <= secret.length; at += 8) expect(shown).not.toContain(secret.slice(at, at + 16))
        },
      ),
      params(300),
    )
  })

  it('LF and CRLF line endings parse to the same sessions and issues', () => {
    fc.assert(
      fc.property(logArb, (text) => {
        const lf = parseKeyLog(text, 'k')
        const crlf = parseKeyLog(text.replaceAll('\n', '\r\n'), 'k')
        expect(sessionsOf(crlf)).toEqual(sessionsOf(lf))
        expect(crlf.issues.map((i) => i.line)).toEqual(lf.issues.map((i) => i.line))
        expect(crlf.unknownLabels).toBe(lf.unknownLabels)
      }),
      params(1000),
    )
    // The real files, too: their sessions survive CRLF conversion whole.
    for (const text of REAL) {
      expect(sessionsOf(parseKeyLog(text.replaceAll('\n', '\r\n'), 'k'))).toEqual(sessionsOf(parseKeyLog(text, 'k')))
      expect(sessionsOf(parseKeyLog(text, 'k')).length).toBeGreaterThan(0)
    }
  })

  it('a file cut in two at a line boundary parses to the same sessions as the whole (first value wins)', () => {
    fc.assert(
      fc.property(fc.array(lineArb, {maxLength: 40}), fc.nat(), (lines, cut) => {
        const at = lines.length === 0 ? 0 : cut % (lines.length + 1)
        const whole = parseKeyLog(lines.join('\n'), 'k')
        const first = parseKeyLog(lines.slice(0, at).join('\n'), 'k')
        const second = parseKeyLog(lines.slice(at).join('\n'), 'k')
        const merged = mergeKeyLogs(first, second)
        expect(sessionsOf(merged)).toEqual(sessionsOf(whole))
        expect(merged.unknownLabels).toBe(whole.unknownLabels)
        // Every issue of the whole is an issue of one part, at the line shifted by the cut; a
        // conflict across the cut is reported by the merge instead (line 0).
        const shifted = [...first.issues.map((i) => `${i.line} ${i.message}`), ...second.issues.map((i) => `${i.line + at} ${i.message}`)]
        const acrossCut = merged.issues.filter((i) => i.source === 'merge').length
        expect(shifted.length + acrossCut).toBe(whole.issues.length)
        for (const line of shifted) expect(whole.issues.map((i) => `${i.line} ${i.message}`)).toContain(line)
      }),
      params(1000),
    )
  })
})
