/**
 * KeyStore: every TLS secret known to one analysis — from --keylog files, SSLKEYLOGFILE and the
 * pcapng Decryption Secrets Blocks met while reading — looked up by ClientHello.random. The TLS
 * readers ask lazily (at their first protected record), so a DSB that comes after the first
 * packets still serves the connections that need it later.
 */
import type {Truncated} from '../lists.js'
import {existsSync} from 'node:fs'
import type {DecryptionSecrets} from '../capture/types.js'
import {keyLogFromDecryptionSecrets, loadKeyLogFile, mergeKeyLogInto, type KeyLog, type KeyLogIssue, type SessionSecrets} from './keylog.js'

/** What a TLS reader needs: the secrets of one session, by client random (64 lowercase hex). */
export interface KeyLookup {
  secretsFor(clientRandomHex: string): SessionSecrets | undefined
}

/** Where the keys came from, for the report. Never holds a secret. */
export interface KeySourceFacts {
  files: string[]
  decryptionSecretsBlocks: number
  /** Sessions (client randoms) with at least one secret. */
  sessions: number
  /** Malformed lines, with their source and 1-based line number (the first LIST_CAPS.keyLogIssues). */
  issues: KeyLogIssue[]
  /** `{issues: N}`: malformed lines past the cap, counted only. */
  truncated?: Truncated
}

export class KeyStore implements KeyLookup {
  private readonly keyLog: KeyLog = {sessions: new Map(), issues: [], unknownLabels: 0}
  private readonly files: string[] = []
  private blocks = 0
  private isSealed = false

  /** A parsed key log file (or SSLKEYLOGFILE). */
  addFile(path: string, log: KeyLog): void {
    this.files.push(path)
    mergeKeyLogInto(this.keyLog, log)
  }

  /** A pcapng Decryption Secrets Block, as the capture reader meets it. */
  addDecryptionSecrets(block: DecryptionSecrets): void {
    if (this.isSealed) throw new Error('KeyStore: secrets added after seal()')
    this.blocks++
    mergeKeyLogInto(this.keyLog, keyLogFromDecryptionSecrets([block]))
  }

  secretsFor(clientRandomHex: string): SessionSecrets | undefined {
    const sessions = this.keyLog.sessions
    // Without a key log, no lookup: hashing a fresh 64-character key per session is not free.
    return sessions.size === 0 ? undefined : sessions.get(clientRandomHex)
  }

  get empty(): boolean {
    return this.keyLog.sessions.size === 0
  }

  /**
   * No more secrets will be added (the capture is a classic pcap, which has no Decryption
   * Secrets Blocks): a session whose secrets are not here now never will be, so its TLS reader
   * need keep nothing for decryption.
   */
  seal(): void {
    this.isSealed = true
  }

  get sealed(): boolean {
    return this.isSealed
  }

  facts(): KeySourceFacts | undefined {
    if (this.files.length === 0 && this.blocks === 0) return undefined
    const facts: KeySourceFacts = {files: [...this.files], decryptionSecretsBlocks: this.blocks, sessions: this.keyLog.sessions.size, issues: [...this.keyLog.issues]}
    if (this.keyLog.truncated) facts.truncated = {...this.keyLog.truncated}
    return facts
  }
}

export interface LoadedKeyStore {
  store: KeyStore
  /** Things the user should hear about (a world-readable key log, malformed lines). */
  warnings: string[]
}

/**
 * The key store for a run: every --keylog file, else the file SSLKEYLOGFILE names (the variable
 * browsers, curl and node honour), if it exists. An unreadable --keylog file is an InputError.
 */
export async function loadKeyStore(files: string[], env: NodeJS.ProcessEnv = process.env): Promise<LoadedKeyStore> {
  const store = new KeyStore()
  const warnings: string[] = []
  const paths = files.length > 0 ? files : env.SSLKEYLOGFILE && existsSync(env.SSLKEYLOGFILE) ? [env.SSLKEYLOGFILE] : []
  for (const path of paths) {
    const {keyLog, worldReadable} = await loadKeyLogFile(path)
    if (worldReadable) warnings.push(`key log ${path} is readable by every user of this machine: it holds session secrets (chmod 600 it)`)
    for (const issue of keyLog.issues.slice(0, 5)) warnings.push(`${issue.source}:${issue.line}: ${issue.message}`)
    const malformed = keyLog.issues.length + (keyLog.truncated?.issues ?? 0)
    if (malformed > 5) warnings.push(`${path}: ${malformed - 5} more malformed lines`)
    store.addFile(path, keyLog)
  }
  return {store, warnings}
}
