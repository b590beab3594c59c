/**
 * NSS key log files (SSLKEYLOGFILE; draft-ietf-tls-keylogfile, NSS "Key Log Format"): one secret
 * per line, `<label> <client_random hex> <secret hex>`, keyed by the ClientHello random (32 bytes)
 * of the connection. Lines starting with '#' and blank lines are comments. Unknown labels are
 * skipped (the format grows: QUIC, ECH...), malformed lines become issues with their 1-based line
 * numbers; nothing here throws on content.
 *
 * Secrets are secrets: SessionSecrets keeps them in private fields, and both JSON.stringify and
 * util.inspect show "[redacted]" instead.
 */
import {countOmitted, LIST_CAPS, pushCapped, type HoldsCappedLists} from '../lists.js'
import {readFile, stat} from 'node:fs/promises'
import {DSB_TLS_KEY_LOG, type DecryptionSecrets} from '../capture/types.js'
import {InputError} from '../errors.js'

/** Label → SessionSecrets property (draft-ietf-tls-keylogfile §3.1 and §3.2). */
export const KEY_LOG_LABELS = {
  /** TLS 1.2 and earlier: the 48-byte master secret. */
  CLIENT_RANDOM: 'masterSecret',
  CLIENT_EARLY_TRAFFIC_SECRET: 'clientEarlyTrafficSecret',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshakeTrafficSecret',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshakeTrafficSecret',
  CLIENT_TRAFFIC_SECRET_0: 'clientTrafficSecret0',
  SERVER_TRAFFIC_SECRET_0: 'serverTrafficSecret0',
  EARLY_EXPORTER_SECRET: 'earlyExporterSecret',
  EXPORTER_SECRET: 'exporterSecret',
} as const

export type KeyLogLabel = keyof typeof KEY_LOG_LABELS
export type SecretName = (typeof KEY_LOG_LABELS)[KeyLogLabel]

const LABEL_OF = Object.fromEntries(Object.entries(KEY_LOG_LABELS).map(([label, name]) => [name, label])) as Record<SecretName, KeyLogLabel>


const REDACTED = '[redacted]'
const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** The secrets logged for one connection (one client random). */
export class SessionSecrets {
  readonly #secrets = new Map<SecretName, Uint8Array>()

  constructor(
    /** ClientHello.random, 64 lowercase hex digits. Not secret. */
    readonly clientRandom: string,
  ) {}

  get masterSecret(): Uint8Array | undefined {
    return this.#secrets.get('masterSecret')
  }
  get clientEarlyTrafficSecret(): Uint8Array | undefined {
    return this.#secrets.get('clientEarlyTrafficSecret')
  }
  get clientHandshakeTrafficSecret(): Uint8Array | undefined {
    return this.#secrets.get('clientHandshakeTrafficSecret')
  }
  get serverHandshakeTrafficSecret(): Uint8Array | undefined {
    return this.#secrets.get('serverHandshakeTrafficSecret')
  }
  get clientTrafficSecret0(): Uint8Array | undefined {
    return this.#secrets.get('clientTrafficSecret0')
  }
  get serverTrafficSecret0(): Uint8Array | undefined {
    return this.#secrets.get('serverTrafficSecret0')
  }
  get earlyExporterSecret(): Uint8Array | undefined {
    return this.#secrets.get('earlyExporterSecret')
  }
  get exporterSecret(): Uint8Array | undefined {
    return this.#secrets.get('exporterSecret')
  }

  /** Which secrets are present, by property name, in KEY_LOG_LABELS order. */
  get names(): SecretName[] {
    return Object.values(KEY_LOG_LABELS).filter((name) => this.#secrets.has(name))
  }

  /**
   * Record a secret. Returns 'conflict' when a different value is already there (the first one is
   * kept), 'duplicate' for the same value again, 'added' otherwise.
   */
  set(name: SecretName, secret: Uint8Array): 'added' | 'duplicate' | 'conflict' {
    const had = this.#secrets.get(name)
    if (had === undefined) {
      this.#secrets.set(name, secret)
      return 'added'
    }
    return Buffer.from(had).equals(secret) ? 'duplicate' : 'conflict'
  }

  toJSON(): {clientRandom: string; secrets: SecretName[]; values: string} {
    return {clientRandom: this.clientRandom, secrets: this.names, values: REDACTED}
  }

  [INSPECT](): string {
    return `SessionSecrets { clientRandom: '${this.clientRandom}', secrets: [${this.names.join(', ')}], values: ${REDACTED} }`
  }
}

export interface KeyLogIssue {
  /** 1-based line number in `source`. */
  line: number
  message: string
  /** The file (or pcapng block) the line came from. */
  source: string
}

export interface KeyLog extends HoldsCappedLists {
  /** By client random, 64 lowercase hex digits. */
  sessions: Map<string, SessionSecrets>
  /** The first LIST_CAPS.keyLogIssues malformed lines; `truncated.issues` counts the rest. */
  issues: KeyLogIssue[]
  /** Lines with a well-formed label this tool does not use. */
  unknownLabels: number
}

const HEX_RE = /^[0-9a-fA-F]*$/
const LABEL_RE = /^[A-Z][A-Z0-9_]*$/
const CLIENT_RANDOM_HEX_LENGTH = 64
/** RFC 5246 §8.1: the master secret is always 48 bytes. */
const MASTER_SECRET_LENGTH = 48
/** TLS 1.3 secrets are Hash.length bytes: SHA-256 or SHA-384 (RFC 8446 §7.1). */
const TLS13_SECRET_LENGTHS = new Set([32, 48])

function isKnownLabel(label: string): label is KeyLogLabel {
  return Object.hasOwn(KEY_LOG_LABELS, label)
}

function emptyKeyLog(): KeyLog {
  return {sessions: new Map(), issues: [], unknownLabels: 0}
}

/** Parse the text of a key log. `source` names it in issues (a file name). */
export function parseKeyLog(text: string, source: string): KeyLog {
  const log = emptyKeyLog()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const issue = parseLine(log, lines[i]!)
    if (issue) pushCapped(log, 'issues', log.issues, LIST_CAPS.keyLogIssues, {line: i + 1, message: issue, source})
  }
  return log
}

/** 16 hex digits or more: maybe a secret (a line wrapped after its client random), never echoed. */
const LONG_HEX_RE = /[0-9a-fA-F]{16}/

/** A field as an issue shows it: quoted and cut short, or only its length when it may hold a secret. */
function shownField(field: string): string {
  return LONG_HEX_RE.test(field) ? `${field.length} characters with a run of hex digits (not shown: it may be a secret)` : JSON.stringify(field.slice(0, 40))
}

/** One line into `log`; returns the problem, if any. */
function parseLine(log: KeyLog, raw: string): string | undefined {
  // CRLF files, trailing blanks, a UTF-8 BOM on the first line.
  const line = raw.replace(/^\uFEFF/, '').trim()
  if (line === '' || line.startsWith('#')) return undefined
  const fields = line.split(/[ \t]+/)
  const label = fields[0]!
  if (!LABEL_RE.test(label)) return `not a key log line (expected LABEL CLIENT_RANDOM SECRET): starts with ${shownField(label)}`
  if (fields.length !== 3) return `${shownField(label)}: expected 3 fields (label, client random, secret), found ${fields.length}`
  if (!isKnownLabel(label)) {
    log.unknownLabels++
    return undefined
  }
  const [, randomHex, secretHex] = fields as [string, string, string]
  if (randomHex.length !== CLIENT_RANDOM_HEX_LENGTH || !HEX_RE.test(randomHex)) {
    return `${label}: client random must be ${CLIENT_RANDOM_HEX_LENGTH} hex digits (32 bytes), found ${randomHex.length} characters`
  }
  if (secretHex.length % 2 !== 0 || !HEX_RE.test(secretHex)) return `${label}: secret is not an even number of hex digits`
  const bytes = secretHex.length / 2
  if (label === 'CLIENT_RANDOM' ? bytes !== MASTER_SECRET_LENGTH : !TLS13_SECRET_LENGTHS.has(bytes)) {
    const want = label === 'CLIENT_RANDOM' ? `${MASTER_SECRET_LENGTH}` : '32 or 48'
    return `${label}: secret of ${bytes} bytes (expected ${want})`
  }
  return addSecret(log, randomHex.toLowerCase(), KEY_LOG_LABELS[label], Uint8Array.from(Buffer.from(secretHex, 'hex')))
}

function addSecret(log: KeyLog, clientRandom: string, name: SecretName, secret: Uint8Array): string | undefined {
  let session = log.sessions.get(clientRandom)
  if (!session) {
    session = new SessionSecrets(clientRandom)
    log.sessions.set(clientRandom, session)
  }
  if (session.set(name, secret) === 'conflict') {
    return `${LABEL_OF[name]} for client random ${clientRandom} given twice with different values (kept the first)`
  }
  return undefined
}

/**
 * Combine key logs (a --keylog file and pcapng DSBs, say). The first value for a secret wins;
 * a different value later is an issue with line 0 and source 'merge'.
 */
export function mergeKeyLogs(...logs: KeyLog[]): KeyLog {
  const merged = emptyKeyLog()
  for (const log of logs) mergeKeyLogInto(merged, log)
  return merged
}

/**
 * mergeKeyLogs into `target` itself: a capture with many Decryption Secrets Blocks adds each to
 * the store's key log without copying what is already there (copying made it quadratic).
 */
export function mergeKeyLogInto(target: KeyLog, log: KeyLog): void {
  for (const issue of log.issues) pushCapped(target, 'issues', target.issues, LIST_CAPS.keyLogIssues, issue)
  countOmitted(target, 'issues', log.truncated?.issues ?? 0)
  target.unknownLabels += log.unknownLabels
  for (const [clientRandom, session] of log.sessions) {
    for (const name of session.names) {
      const problem = addSecret(target, clientRandom, name, session[name]!)
      if (problem) pushCapped(target, 'issues', target.issues, LIST_CAPS.keyLogIssues, {line: 0, message: problem, source: 'merge'})
    }
  }
}

/**
 * The key logs carried in pcapng Decryption Secrets Blocks of type TLSK (0x544c534b), merged in
 * file order. Blocks of other types (SSH, WireGuard, ZigBee...) are not TLS and are skipped.
 */
export function keyLogFromDecryptionSecrets(secrets: DecryptionSecrets[]): KeyLog {
  const decoder = new TextDecoder('utf-8')
  const merged = emptyKeyLog()
  for (const block of secrets) {
    if (block.secretsType === DSB_TLS_KEY_LOG) mergeKeyLogInto(merged, parseKeyLog(decoder.decode(block.data), `decryption secrets block at byte ${block.offset}`))
  }
  return merged
}

export interface LoadedKeyLog {
  keyLog: KeyLog
  /** Others may read the file (mode & 0o004): the CLI warns, since it holds session secrets. */
  worldReadable: boolean
}

/** Read and parse a key log file; an unreadable file is an InputError naming it. */
export async function loadKeyLogFile(path: string): Promise<LoadedKeyLog> {
  let text: string
  let mode: number
  try {
    const info = await stat(path)
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
    mode = info.mode
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message
    throw new InputError(`cannot read key log: ${why}`, path)
  }
  return {keyLog: parseKeyLog(text, path), worldReadable: (mode & 0o004) !== 0}
}
