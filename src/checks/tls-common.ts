/**
 * What the TLS checks share: the accessors to the facts they read, how a connection ended after
 * a given frame, and the TLS 1.3 inference from encrypted record sizes (DESIGN.md "What can be
 * seen on the wire"). Pure: facts in, facts out.
 */
import type {ConnectionFacts} from '../analysis/types.js'
import type {CertificateVerdict} from '../analysis/cert-policy.js'
import type {TlsFacts, TlsRecordRef} from '../dissect/tls/types.js'
import {CONTENT_APPLICATION_DATA} from '../dissect/tls/iana/content-types.js'
import {nameOf} from '../dissect/tls/iana/table.js'
import {TLS_1_3, VERSIONS} from '../dissect/tls/iana/versions.js'
import type {Issue} from '../issues.js'
import type {FrameRef, Side} from '../stream/types.js'
import type {CheckId, CheckResult} from './types.js'

/** The TLS facts of a connection (the one place the checks reach into ConnectionFacts for TLS). */
export function tlsFactsOf(facts: ConnectionFacts): TlsFacts | undefined {
  return facts.tls
}

/** The certificate policy verdict analysis/ computed for the server's chain. */
export function serverCertificateVerdictOf(facts: ConnectionFacts): CertificateVerdict | undefined {
  return facts.certificates?.server
}

export function versionName(version: number): string {
  return nameOf(VERSIONS, version)
}

export function isTls13(tls: TlsFacts): boolean {
  return tls.version === TLS_1_3
}

/**
 * Every protected record of the connection was decrypted with the key log (keys found, no
 * failure): nothing was hidden, so what was not seen was not there.
 */
export function decryptedThroughout(tls: TlsFacts): boolean {
  return tls.decryption?.keys === 'found' && tls.decryption.failures === 0
}

export function skip(id: CheckId, summary: string, hint?: string): CheckResult {
  const result: CheckResult = {id, status: 'skip', confidence: 'observed', summary, evidence: {frames: []}}
  if (hint !== undefined) result.hint = hint
  return result
}

/**
 * The stream layer's 'tcp.snaplen' issue (a segment's payload was cut by the capture's snapshot
 * length), with the snapshot length the analysis saw cut frames at, when it knows it.
 */
export interface SnaplenIssue extends Issue {
  code: 'tcp.snaplen'
  snaplen?: number
}

export const SNAPLEN_HINT = 'the capture kept only the start of each packet: run tcpdump with -s 0 (whole packets) and analyze the new capture'

/** Where the capture's snapshot length first cut this connection's payload, if it did. */
export function snaplenCut(facts: ConnectionFacts): {frame: number; snaplen?: number} | undefined {
  let cut: SnaplenIssue | undefined
  for (const issue of facts.issues) {
    if (issue.code === 'tcp.snaplen' && (cut === undefined || (issue.frame ?? Infinity) < (cut.frame ?? Infinity))) cut = issue as SnaplenIssue
  }
  if (cut === undefined) return undefined
  return {frame: cut.frame ?? facts.tcp.firstFrame, snaplen: cut.snaplen}
}

/** "payload not captured (snaplen 96): capture again with -s 0", when the snaplen cut the payload. */
export function snaplenReason(facts: ConnectionFacts): string | undefined {
  const cut = snaplenCut(facts)
  if (cut === undefined) return undefined
  return `payload not captured (snaplen ${cut.snaplen ?? 'too small'}): capture again with -s 0`
}

/**
 * On a connection whose payload the snaplen cut, a TLS check may be judging bytes that were never
 * captured: a ServerHello cut to its first 30 bytes is not a server that did not answer, and a
 * record-size inference over a flight whose records were cut away is no inference. Such a result
 * becomes a skip naming the snaplen. Kept: a pass on bytes actually read (observed), and any
 * verdict resting only on frames before the first cut, which were captured whole.
 */
export function snaplenVerdict(facts: ConnectionFacts, result: CheckResult): CheckResult {
  if (!result.id.startsWith('tls.') || (result.status === 'pass' && result.confidence === 'observed')) return result
  const cut = snaplenCut(facts)
  if (cut === undefined) return result
  const frames = result.evidence.frames
  if (result.status !== 'skip' && frames.length > 0 && frames.every((frame) => frame < cut.frame)) return result
  const skipped = skip(result.id, snaplenReason(facts)!, SNAPLEN_HINT)
  skipped.evidence = {frames: [cut.frame], values: {firstCutFrame: cut.frame, ...(cut.snaplen === undefined ? {} : {snaplen: cut.snaplen})}}
  return skipped
}

/** Why there is nothing TLS to judge on this connection, for the skip summaries. */
export function noTlsReason(facts: ConnectionFacts): string {
  const tcp = facts.tcp
  if (!tcp.ack && tcp.sawOpening) return 'the TCP handshake never completed (see tcp.*), so no TLS was attempted'
  if (tcp.c2s.deliveredBytes === 0 && tcp.s2c.deliveredBytes === 0) return 'no payload was sent on the connection'
  if (!tcp.sawOpening) return 'the capture starts in the middle of the connection, after the TLS handshake'
  return 'no TLS handshake was seen on the connection'
}

/** How the connection went on after `frame`: the first alert, RST or FIN (from `side`, when given). */
export interface Ending extends FrameRef {
  from: Side
  what: string
}

export function endingAfter(facts: ConnectionFacts, frame: number, side?: Side): Ending | undefined {
  const candidates: Ending[] = []
  for (const alert of facts.tls?.alerts ?? []) {
    if (alert.frame > frame && (side === undefined || alert.from === side)) {
      candidates.push({frame: alert.frame, ts: alert.ts, from: alert.from, what: `a ${alert.level === 2 ? 'fatal' : 'warning'} ${alert.descriptionName} (${alert.description}) alert`})
    }
  }
  for (const rst of facts.tcp.rst) {
    if (rst.frame > frame && (side === undefined || rst.from === side)) candidates.push({...rst, what: 'a TCP reset (RST)'})
  }
  for (const fin of facts.tcp.fin) {
    if (fin.frame > frame && (side === undefined || fin.from === side)) candidates.push({...fin, what: 'a close (FIN)'})
  }
  candidates.sort((a, b) => a.frame - b.frame)
  return candidates[0]
}

/** "the server sent a TCP reset (RST) (frame 12)" or "nothing until the capture ended 3.2 s later". */
export function describeEnding(facts: ConnectionFacts, after: FrameRef, side?: Side): {text: string; frames: number[]} {
  const ending = endingAfter(facts, after.frame, side)
  if (ending) return {text: `the ${ending.from} sent ${ending.what} (frame ${ending.frame})`, frames: [ending.frame]}
  const seconds = Math.max(0, facts.tcp.endTs - after.ts)
  return {text: `nothing came until the capture ended ${seconds.toFixed(1)} s later`, frames: []}
}

/*
 * TLS 1.3 without keys (RFC 8446 §5.2): every record after ServerHello is an application_data
 * record whose length is the inner plaintext + 1 content-type byte + the AEAD tag. Some messages
 * have a fixed size, which is what makes the inference possible:
 *   Finished       = 4-byte header + Hash.length verify_data (32 for SHA-256 suites, 48 for SHA-384)
 *   empty client Certificate = 4 + 1 (context length 0) + 3 (empty list) = 8
 *   alert          = 2
 * and a TLS 1.3 client MUST answer a CertificateRequest with a Certificate message, empty when it
 * has none (§4.4.2), before its Finished. So the client's first encrypted record says whether it
 * was asked and what it sent.
 */

const TLS_AES_256_GCM_SHA384 = 0x1302
const TLS_AES_128_CCM_8_SHA256 = 0x1305
const FINISHED_HEADER = 4
const EMPTY_CERTIFICATE = 8
const ALERT = 2

export interface Tls13RecordSizes {
  finished: number
  emptyCertificate: number
  alert: number
}

export function tls13RecordSizes(cipherSuite: number | undefined): Tls13RecordSizes {
  const tag = cipherSuite === TLS_AES_128_CCM_8_SHA256 ? 8 : 16
  const hash = cipherSuite === TLS_AES_256_GCM_SHA384 ? 48 : 32
  return {finished: FINISHED_HEADER + hash + 1 + tag, emptyCertificate: EMPTY_CERTIFICATE + 1 + tag, alert: ALERT + 1 + tag}
}

/** What the client's first encrypted record after the server's flight holds, judged by its size. */
export type ClientFlightKind = 'finished' | 'empty-certificate' | 'certificate' | 'alert' | 'unknown'

export interface Tls13Handshake {
  sizes: Tls13RecordSizes
  /** The server's encrypted records before the client answered (EncryptedExtensions … Finished). */
  serverFlight: TlsRecordRef[]
  serverFlightBytes: number
  /** The client's encrypted records before the server's next record. */
  clientFlight: TlsRecordRef[]
  clientFlightBytes: number
  clientFlightKind?: ClientFlightKind
  /** Server records after the client's flight that are not alert-sized (NewSessionTicket, data). */
  serverAfterClient: TlsRecordRef[]
  /** An alert-sized server record right after the client's flight. */
  serverAlertAfterClient?: TlsRecordRef
  /** The client sent more than its flight (application data). */
  clientSentData: boolean
}

/** A certificate in a Certificate message is hundreds of bytes; anything below is not one. */
const MIN_CERTIFICATE_RECORD = 200

/**
 * Several checks read the same handshake: it is worked out once per TlsFacts. The checks of one
 * connection run together, so remembering the last one is enough; a WeakMap kept every
 * connection's entry (and the arrays in it) alive until the next full collection, which on a
 * capture of 100,000 connections made the young generation promote them all.
 */
let lastHandshakeOf: TlsFacts | undefined
let lastHandshake: Tls13Handshake | undefined

export function tls13Handshake(tls: TlsFacts): Tls13Handshake | undefined {
  if (tls !== lastHandshakeOf) {
    lastHandshake = readTls13Handshake(tls)
    lastHandshakeOf = tls
  }
  return lastHandshake
}

function readTls13Handshake(tls: TlsFacts): Tls13Handshake | undefined {
  const serverHello = tls.serverHello
  if (!serverHello || !isTls13(tls)) return undefined
  const sizes = tls13RecordSizes(tls.cipherSuite)
  const alert = sizes.alert
  const serverFlight: TlsRecordRef[] = []
  const clientFlight: TlsRecordRef[] = []
  const serverAfterClient: TlsRecordRef[] = []
  let serverAlertAfterClient: TlsRecordRef | undefined
  let serverAnswered = false
  let clientLaterData = false
  // One pass over the encrypted records after the ServerHello, in capture order: the server's
  // flight, then the client's (its records up to the server's next), then what followed.
  let phase: 'server' | 'client' | 'after' = 'server'
  for (const r of tls.records) {
    if (r.contentType !== CONTENT_APPLICATION_DATA) continue
    // The server's encrypted flight often shares the ServerHello's frame; client records before it are 0-RTT data.
    if (!(r.frame > serverHello.frame || (r.frame === serverHello.frame && r.direction === 's2c'))) continue
    if (phase === 'server') {
      if (r.direction === 's2c') {
        serverFlight.push(r)
        continue
      }
      phase = 'client'
    }
    if (phase === 'client') {
      if (r.direction === 'c2s') {
        clientFlight.push(r)
        continue
      }
      phase = 'after'
    }
    if (r.direction === 's2c') {
      // An alert-sized server record right after the client's flight: the server rejected it.
      if (!serverAnswered && r.length === alert) serverAlertAfterClient = r
      serverAnswered = true
      if (r.length !== alert) serverAfterClient.push(r)
    } else if (r.length !== alert) {
      clientLaterData = true
    }
  }
  const result: Tls13Handshake = {
    sizes,
    serverFlight,
    serverFlightBytes: sum(serverFlight),
    clientFlight,
    clientFlightBytes: 0,
    serverAfterClient,
    clientSentData: false,
  }
  if (clientFlight.length === 0) return result
  result.clientFlightBytes = sum(clientFlight)
  result.clientFlightKind = classifyClientFlight(clientFlight, sizes)
  if (serverAlertAfterClient !== undefined) result.serverAlertAfterClient = serverAlertAfterClient
  // Client data: more client records than a Finished flight needs, or any after the server answered.
  const flightRecords = result.clientFlightKind === 'finished' ? 1 : result.clientFlightKind === 'empty-certificate' ? 2 : undefined
  result.clientSentData = clientLaterData || (flightRecords !== undefined && clientFlight.length > flightRecords)
  return result
}

function classifyClientFlight(flight: TlsRecordRef[], sizes: Tls13RecordSizes): ClientFlightKind {
  const first = flight[0]
  if (!first) return 'unknown'
  if (first.length === sizes.alert) return 'alert'
  if (first.length === sizes.finished) return 'finished'
  if (first.length === sizes.emptyCertificate) return 'empty-certificate'
  if (first.length >= MIN_CERTIFICATE_RECORD) return 'certificate'
  return 'unknown'
}

function sum(records: TlsRecordRef[]): number {
  let total = 0
  for (const record of records) total += record.length
  return total
}

/** Frame numbers of records, deduplicated, in order. */
export function framesOf(refs: Array<FrameRef | undefined>): number[] {
  const frames = new Set<number>()
  for (const ref of refs) if (ref) frames.add(ref.frame)
  return [...frames].sort((a, b) => a - b)
}

/** "1,234 bytes", as toLocaleString('en-US') writes it, without Intl's cost per call. */
export function formatBytes(bytes: number): string {
  return `${groupThousands(bytes)} bytes`
}

function groupThousands(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US')
  if (n < 1000 && n > -1000) return String(n)
  const digits = String(Math.abs(n))
  let text = digits.slice(0, digits.length % 3 || 3)
  for (let i = text.length; i < digits.length; i += 3) text += `,${digits.slice(i, i + 3)}`
  return n < 0 ? `-${text}` : text
}
