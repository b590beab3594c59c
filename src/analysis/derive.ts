/**
 * Facts derived from a connection's facts: the TLS 1.3 flights (from encrypted record sizes), the
 * record flow of the upgrade after the client's Finished, and where the snaplen cut the payload.
 * Several checks and the ladder read them; none recomputes them. Each is worked out the first
 * time it is read and kept, so at most once per connection, and only when something needs it
 * (with a key log the upgrade is read, and no check asks for its record flow). They read only
 * the assembled facts, which no longer change, so nothing depends on the order they are read in.
 *
 * They are attached to the facts under the DERIVED symbol (withDerivedFacts): the facts object
 * already travels to every check and renderer, and JSON.stringify, the schema and the NDJSON
 * writer skip symbol keys, so no output changes.
 */
import {CONTENT_APPLICATION_DATA} from '../protocols/tls/iana/content-types.js'
import {TLS_1_3} from '../protocols/tls/iana/versions.js'
import {REQUEST_RECORD_MAX, REQUEST_RECORD_MIN, recordBytes, tls13RecordSizes, type Tls13RecordSizes} from '../protocols/tls/record-sizes.js'
import type {TlsFacts, TlsRecordRef} from '../protocols/tls/types.js'
import {
  DERIVED,
  type ClientFlightKind,
  type ConnectionFacts,
  type DerivedFacts,
  type SnaplenCut,
  type SnaplenIssue,
  type Tls13Handshake,
  type UpgradeFlow,
} from '../model/facts.js'
import type {TcpFlagEvent} from '../stream/types.js'

/** ConnectionFacts as the readers and the tracker gave them, before derivation. */
export type AssembledFacts = Omit<ConnectionFacts, typeof DERIVED>

/**
 * Attaches the derived facts to `facts` (under the DERIVED symbol, so never serialized) and
 * returns it. Call it once the facts are complete: what is derived reads them when first asked.
 */
export function withDerivedFacts(facts: AssembledFacts): ConnectionFacts {
  ;(facts as {[DERIVED]?: DerivedFacts})[DERIVED] = new ConnectionDerivedFacts(facts)
  return facts as ConnectionFacts
}

/**
 * The derived facts of `facts`: those attached when they were assembled, or, for facts that lost
 * them (a structuredClone drops a symbol key, a report read back from JSON never had it), new
 * ones. For renderers, which may be handed such a report.
 */
export function derivedOf(facts: AssembledFacts & {readonly [DERIVED]?: DerivedFacts}): DerivedFacts {
  return facts[DERIVED] ?? new ConnectionDerivedFacts(facts)
}

/** Derived facts of `facts` not attached to them (withDerivedFacts attaches them). */
export function deriveFacts(facts: AssembledFacts): DerivedFacts {
  return new ConnectionDerivedFacts(facts)
}

/** Not worked out yet (undefined is an answer: "not TLS 1.3", "no upgrade flow", "not cut"). */
const NOT_YET: unique symbol = Symbol('not derived yet')

/**
 * One connection's derived facts, each worked out on first read and kept. Private fields: a
 * copy, an inspection or a deep equality sees none of the memo, only the getters' answers.
 */
class ConnectionDerivedFacts implements DerivedFacts {
  readonly #facts: AssembledFacts
  #tls13: Tls13Handshake | undefined | typeof NOT_YET = NOT_YET
  #upgradeFlow: UpgradeFlow | undefined | typeof NOT_YET = NOT_YET
  #snaplenCut: SnaplenCut | undefined | typeof NOT_YET = NOT_YET

  constructor(facts: AssembledFacts) {
    this.#facts = facts
  }

  get tls13(): Tls13Handshake | undefined {
    if (this.#tls13 === NOT_YET) {
      const tls = this.#facts.tls
      this.#tls13 = tls === undefined ? undefined : readTls13Handshake(tls)
    }
    return this.#tls13
  }

  get upgradeFlow(): UpgradeFlow | undefined {
    if (this.#upgradeFlow === NOT_YET) {
      const tls13 = this.tls13
      this.#upgradeFlow = tls13 === undefined ? undefined : readUpgradeFlow(this.#facts, this.#facts.tls!, tls13)
    }
    return this.#upgradeFlow
  }

  get snaplenCut(): SnaplenCut | undefined {
    if (this.#snaplenCut === NOT_YET) this.#snaplenCut = readSnaplenCut(this.#facts)
    return this.#snaplenCut
  }
}

/** The first frame whose payload the capture's snapshot length cut (the stream layer's 'tcp.snaplen' issues). */
function readSnaplenCut(facts: AssembledFacts): SnaplenCut | undefined {
  let cut: SnaplenIssue | undefined
  for (const issue of facts.issues) {
    if (issue.code === 'tcp.snaplen' && (cut === undefined || (issue.frame ?? Infinity) < (cut.frame ?? Infinity))) cut = issue as SnaplenIssue
  }
  if (cut === undefined) return undefined
  return {frame: cut.frame ?? facts.tcp.firstFrame, snaplen: cut.snaplen}
}

/** A certificate in a Certificate message is hundreds of bytes; anything below is not one. */
const MIN_CERTIFICATE_RECORD = 200

function readTls13Handshake(tls: TlsFacts): Tls13Handshake | undefined {
  const serverHello = tls.serverHello
  if (!serverHello || tls.version !== TLS_1_3) return undefined
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
    serverFlightBytes: recordBytes(serverFlight),
    clientFlight,
    clientFlightBytes: 0,
    serverAfterClient,
    clientSentData: false,
  }
  if (clientFlight.length === 0) return result
  result.clientFlightBytes = recordBytes(clientFlight)
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

/**
 * The record flow of a completed TLS 1.3 handshake after the client's Finished, or undefined when
 * the client sent nothing after it (or the client's flight holds no Finished-sized record).
 */
function readUpgradeFlow(facts: AssembledFacts, tls: TlsFacts, flights: Tls13Handshake): UpgradeFlow | undefined {
  const alert = flights.sizes.alert
  const finishedIndex = flights.clientFlight.findIndex((r) => r.length === flights.sizes.finished)
  if (finishedIndex < 0) return undefined
  // Positions in capture order: several records share a frame, so frames alone cannot order them.
  // One pass over the non-alert application data records after the Finished: the client's first
  // is the request; the server's records up to the client's next are the answer; what follows an
  // answer is counted per side (nothing is, when the client's next record came before any answer).
  const start = tls.records.indexOf(flights.clientFlight[finishedIndex]) + 1
  let request: TlsRecordRef | undefined
  const answer: TlsRecordRef[] = []
  const clientAfter: TlsRecordRef[] = []
  const serverAfter: TlsRecordRef[] = []
  let answered = false
  for (let i = start; i < tls.records.length; i++) {
    const r = tls.records[i]
    if (r.contentType !== CONTENT_APPLICATION_DATA || r.length === alert) continue
    if (request === undefined) {
      if (r.direction === 'c2s') request = r
    } else if (!answered) {
      if (r.direction === 's2c') {
        answer.push(r)
        continue
      }
      if (answer.length === 0) break
      answered = true
      clientAfter.push(r)
    } else if (r.direction === 'c2s') {
      clientAfter.push(r)
    } else {
      serverAfter.push(r)
    }
  }
  if (request === undefined) return undefined
  const flagAfter = (events: TcpFlagEvent[], side: 'client' | 'server') => events.find((e) => e.from === side && e.frame >= request.frame)
  return {
    request,
    requestLooksLikeUpgrade: request.length >= REQUEST_RECORD_MIN && request.length <= REQUEST_RECORD_MAX,
    answer,
    clientAfter,
    serverAfter,
    fin: {client: flagAfter(facts.tcp.fin, 'client'), server: flagAfter(facts.tcp.fin, 'server')},
    rst: facts.tcp.rst.find((e) => e.frame >= request.frame),
    recordsTruncated: tls.recordsTruncated,
  }
}
