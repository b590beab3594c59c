/**
 * What the TLS checks share: the accessors to the facts they read, how a connection ended after
 * a given frame, and the snaplen rule. The TLS 1.3 inference from encrypted record sizes
 * (DESIGN.md "What can be seen on the wire") is worked out once in analysis/derive.ts and read
 * here as facts[DERIVED].tls13. Pure: facts in, facts out.
 */
import {DERIVED, type CertificateVerdict, type ConnectionFacts, type Tls13Handshake} from '../model/facts.js'
import type {TlsFacts} from '../protocols/tls/types.js'
import {nameOf} from '../protocols/tls/iana/table.js'
import {TLS_1_3, VERSIONS} from '../protocols/tls/iana/versions.js'
import type {FrameRef, Side} from '../stream/types.js'
import type {CheckId, CheckResult} from '../model/checks.js'

/** The TLS facts of a connection (the one place the checks reach into ConnectionFacts for TLS). */
export function tlsFactsOf(facts: ConnectionFacts): TlsFacts | undefined {
  return facts.tls
}

/** The TLS 1.3 flights judged by record sizes (analysis/derive.ts), on a TLS 1.3 connection with a ServerHello. */
export function tls13HandshakeOf(facts: ConnectionFacts): Tls13Handshake | undefined {
  return facts[DERIVED].tls13
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

export const SNAPLEN_HINT = 'the capture kept only the start of each packet: run tcpdump with -s 0 (whole packets) and analyze the new capture'

/** "payload not captured (snaplen 96): capture again with -s 0", when the snaplen cut the payload. */
export function snaplenReason(facts: ConnectionFacts): string | undefined {
  const cut = facts[DERIVED].snaplenCut
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
  const cut = facts[DERIVED].snaplenCut
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
