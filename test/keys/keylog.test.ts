/**
 * NSS key log parsing on real key logs written by `openssl s_client -keylogfile` (make-keylogs.sh;
 * expected.json holds the ClientHello randoms tshark read from the captures and the labels awk
 * counted), a real pcapng Decryption Secrets Block from the public corpus, and edits of real
 * logs for comments, CRLF and malformed lines.
 */
import {chmodSync, copyFileSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {describe, expect, it} from 'vitest'
import type {DecryptionSecrets} from '../../src/capture/types.js'
import {readCapture} from '../../src/capture/index.js'
import {InputError} from '../../src/errors.js'
import {KEY_LOG_LABELS, keyLogFromDecryptionSecrets, loadKeyLogFile, mergeKeyLogs, parseKeyLog, type KeyLogLabel} from '../../src/keys/keylog.js'
import {CORPUS_PCAPS, ROOT} from '../helpers/paths.js'
import {itWithJa4} from '../helpers/skip.js'

const HERE = join(ROOT, 'test', 'keys')
const expected = JSON.parse(readFileSync(join(HERE, 'expected.json'), 'utf8')) as Record<'tls13' | 'tls12', {clientRandoms: string[]; labels: Record<string, string[]>}>
const text = (name: string): string => readFileSync(join(HERE, `${name}.keys`), 'utf8')
/** [label, random, secret] of every key line of a file, split by hand. */
const lines = (name: string): string[][] => text(name).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '))

describe('real key logs from openssl s_client', () => {
  it.each(['tls13', 'tls12'] as const)('%s: one session per ClientHello tshark saw, with the labels of the file', (name) => {
    const log = parseKeyLog(text(name), `${name}.keys`)
    expect(log.issues).toEqual([])
    expect(log.unknownLabels).toBe(0)
    expect([...log.sessions.keys()].sort()).toEqual([...expected[name].clientRandoms].sort())
    for (const [random, session] of log.sessions) {
      expect(session.clientRandom).toBe(random)
      expect(session.names).toEqual(expected[name].labels[random]!.map((l) => KEY_LOG_LABELS[l as KeyLogLabel]).sort((a, b) => Object.values(KEY_LOG_LABELS).indexOf(a) - Object.values(KEY_LOG_LABELS).indexOf(b)))
    }
    for (const [label, random, secret] of lines(name)) {
      const value = log.sessions.get(random!)![KEY_LOG_LABELS[label as KeyLogLabel]]!
      expect(Buffer.from(value).toString('hex')).toBe(secret)
    }
  })

  it('TLS 1.2: CLIENT_RANDOM carries the 48-byte master secret', () => {
    const [session] = parseKeyLog(text('tls12'), 'tls12.keys').sessions.values()
    expect(session!.masterSecret?.length).toBe(48)
    expect(session!.clientHandshakeTrafficSecret).toBeUndefined()
  })

  it('counts labels it does not use (OpenSSL\'s *_TRAFFIC_SECRET_N after a KeyUpdate)', () => {
    const keylog = (JSON.parse(readFileSync(join(ROOT, 'test', 'protocols', 'tls', 'crypto', 'chacha20.json'), 'utf8')) as {keylog: string}).keylog
    const log = parseKeyLog(keylog, 'chacha20')
    expect(log.unknownLabels).toBe(2)
    expect(log.issues).toEqual([])
    expect(log.sessions.size).toBe(1)
  })
})

describe('format', () => {
  it('ignores comments and blank lines; tolerates CRLF, a BOM and trailing blanks', () => {
    const plain = parseKeyLog(text('tls13'), 'a')
    const body = text('tls13').split('\n').map((l) => (l.startsWith('SERVER') ? `# a comment\r\n\r\n${l}  ` : l))
    const edited = parseKeyLog('\uFEFF' + body.join('\r\n'), 'b')
    expect(edited.issues).toEqual([])
    expect([...edited.sessions.keys()]).toEqual([...plain.sessions.keys()])
    for (const [random, session] of plain.sessions) {
      expect(Buffer.from(edited.sessions.get(random)!.serverTrafficSecret0!)).toEqual(Buffer.from(session.serverTrafficSecret0!))
    }
  })

  it('reports malformed lines with their 1-based line numbers and keeps the good ones', () => {
    const [label, random, secret] = lines('tls13')[0]!
    const input = [
      '# SSL/TLS secrets log file', // 1
      `${label} ${random} ${secret}`, // 2 good
      `CLIENT_RANDOM abcd ${'00'.repeat(48)}`, // 3 short client random
      'garbage', // 4 not a key log line
      `SERVER_TRAFFIC_SECRET_0 ${random}`, // 5 two fields
      `CLIENT_TRAFFIC_SECRET_0 ${random} abc`, // 6 odd hex
      `CLIENT_TRAFFIC_SECRET_0 ${random} ${'zz'.repeat(32)}`, // 7 not hex
      `EXPORTER_SECRET ${random} ${'11'.repeat(16)}`, // 8 16-byte TLS 1.3 secret
      `CLIENT_RANDOM ${random} ${'22'.repeat(32)}`, // 9 master secret not 48 bytes
      `QUIC_SERVER_TRAFFIC_SECRET_0 ${random} ${'33'.repeat(32)}`, // 10 unknown label
      `${label} ${random} ${secret}`, // 11 same value again: fine
      `${label} ${random} ${'44'.repeat(secret!.length / 2)}`, // 12 conflicting value
      '', // 13
    ].join('\r\n')
    const log = parseKeyLog(input, 'bad.keys')
    expect(log.issues.map((i) => i.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 12])
    expect(log.issues.every((i) => i.source === 'bad.keys')).toBe(true)
    expect(log.issues[0]!.message).toMatch(/64 hex digits/)
    expect(log.issues[7]!.message).toMatch(/different values/)
    expect(log.unknownLabels).toBe(1)
    expect(log.sessions.size).toBe(1)
    const session = log.sessions.get(random!)!
    expect(session.names).toEqual([KEY_LOG_LABELS[label as KeyLogLabel]])
    expect(Buffer.from(session[KEY_LOG_LABELS[label as KeyLogLabel]]!).toString('hex')).toBe(secret) // the first value kept
  })

  it('lowercases the client random', () => {
    const [label, random, secret] = lines('tls13')[0]!
    const log = parseKeyLog(`${label} ${random!.toUpperCase()} ${secret!.toUpperCase()}`, 'x')
    expect([...log.sessions.keys()]).toEqual([random])
  })
})

describe('merging and pcapng Decryption Secrets Blocks', () => {
  it('mergeKeyLogs unions sessions; a conflicting value is an issue and the first wins', () => {
    const a = parseKeyLog(text('tls13'), 'tls13.keys')
    const b = parseKeyLog(text('tls12'), 'tls12.keys')
    const merged = mergeKeyLogs(a, b)
    expect(merged.sessions.size).toBe(expected.tls13.clientRandoms.length + expected.tls12.clientRandoms.length)
    const [label, random, secret] = lines('tls13')[0]!
    const conflicting = parseKeyLog(`${label} ${random} ${'55'.repeat(secret!.length / 2)}`, 'other')
    const again = mergeKeyLogs(merged, conflicting)
    expect(again.issues).toEqual([expect.objectContaining({line: 0, source: 'merge'})])
    expect(Buffer.from(again.sessions.get(random!)![KEY_LOG_LABELS[label as KeyLogLabel]]!).toString('hex')).toBe(secret)
  })

  itWithJa4('reads the TLSK block of a real pcapng (corpus http2-with-cookies.pcapng) and skips other secret types', async () => {
    const blocks: DecryptionSecrets[] = []
    await readCapture(join(CORPUS_PCAPS, 'http2-with-cookies.pcapng'), {frame: () => {}, secrets: (s) => blocks.push({...s, data: s.data.slice()})})
    expect(blocks.map((b) => b.secretsType)).toContain(0x544c534b)
    const ssh: DecryptionSecrets = {secretsType: 0x5353484b, data: Buffer.from('not a TLS key log'), offset: 1}
    const log = keyLogFromDecryptionSecrets([...blocks, ssh])
    expect(log.issues).toEqual([])
    // tshark -Y 'tls.handshake.type==1' -e tls.handshake.random: the capture's only ClientHello
    // (TLS 1.3, 0x1301), which tshark decrypts with this block.
    const session = log.sessions.get('c106cecf9c7816cd12e83fd108c36cc8d0ccbedfa9e3742fc7cc43291f8fb0fe')
    expect(session?.serverHandshakeTrafficSecret?.length).toBe(32)
    expect(session?.clientTrafficSecret0?.length).toBe(32)
  })

  it('names the block in issues', () => {
    const log = keyLogFromDecryptionSecrets([{secretsType: 0x544c534b, data: Buffer.from('# x\nbroken line here\n'), offset: 4242}])
    expect(log.issues).toEqual([{line: 2, message: expect.any(String), source: 'decryption secrets block at byte 4242'}])
  })
})

describe('loadKeyLogFile', () => {
  it('reads a file and says whether others may read it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keylog-'))
    const file = join(dir, 'keys.log')
    copyFileSync(join(HERE, 'tls13.keys'), file)
    chmodSync(file, 0o644)
    const open = await loadKeyLogFile(file)
    expect(open.worldReadable).toBe(true)
    expect(open.keyLog.sessions.size).toBe(expected.tls13.clientRandoms.length)
    chmodSync(file, 0o600)
    expect((await loadKeyLogFile(file)).worldReadable).toBe(false)
  })

  it('throws InputError naming the file when it cannot be read', async () => {
    const missing = join(tmpdir(), 'no-such-dir-keylog', 'keys.log')
    await expect(loadKeyLogFile(missing)).rejects.toThrow(InputError)
    await expect(loadKeyLogFile(missing)).rejects.toMatchObject({file: missing, message: expect.stringMatching(/no such file/)})
    await expect(loadKeyLogFile(HERE)).rejects.toMatchObject({file: HERE, message: expect.stringMatching(/directory/)})
  })
})

describe('secrets are never printed', () => {
  const log = parseKeyLog(text('tls13') + text('tls12'), 'both')
  const secrets = [...lines('tls13'), ...lines('tls12')].map((l) => l[2]!)

  it('JSON.stringify shows client randoms and secret names, not the secrets', () => {
    const json = JSON.stringify({sessions: [...log.sessions.values()]})
    for (const secret of secrets) expect(json).not.toContain(secret)
    expect(json).toContain('[redacted]')
    expect(json).toContain(expected.tls12.clientRandoms[0])
    expect(json).toContain('masterSecret')
  })

  it('util.inspect (console.log) shows [redacted], also nested in the Map', () => {
    const shown = inspect(log, {depth: 10}) + inspect([...log.sessions.values()]) + inspect({...log.sessions.values().next().value})
    for (const secret of secrets) expect(shown).not.toContain(secret)
    for (const secret of secrets) expect(shown).not.toContain(secret.slice(0, 16))
    expect(shown).toContain('[redacted]')
  })
})
