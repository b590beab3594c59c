/**
 * Facts derived from a connection's facts, worked out once when they are assembled: the TLS 1.3
 * flights (from encrypted record sizes), the record flow of the upgrade after the client's
 * Finished, and where the snaplen cut the payload. Several checks and the ladder read them;
 * none recomputes them, and nothing here depends on the order anyone reads them in.
 *
 * They are attached to the facts as a non-enumerable `derived` property (withDerivedFacts): the
 * facts object already travels to every check and renderer, and JSON.stringify, the schema and
 * the NDJSON writer skip non-enumerable properties, so no output changes.
 */
import {CONTENT_APPLICATION_DATA} from '../protocols/tls/iana/content-types.js'
import {TLS_1_3} from '../protocols/tls/iana/versions.js'
import {REQUEST_RECORD_MAX, REQUEST_RECORD_MIN, recordBytes, tls13RecordSizes, type Tls13RecordSizes} from '../protocols/tls/record-sizes.js'
import type {TlsFacts, TlsRecordRef} from '../protocols/tls/types.js'
import type {
  ClientFlightKind,
  ConnectionFacts,
  DerivedFacts,
  SnaplenCut,
  SnaplenIssue,
  Tls13Handshake,
  UpgradeFlow,
} from '../model/facts.js'
import type {TcpFlagEvent} from '../stream/types.js'

/** ConnectionFacts as the readers and the tracker gave them, before derivation. */
export type AssembledFacts = Omit<ConnectionFacts, 'derived'>

/**
 * Attaches the derived facts to `facts` (non-enumerable, so never serialized) and returns it.
 * Call it once the facts are complete: what is derived is not updated when they change later.
 */
export function withDerivedFacts(facts: AssembledFacts): ConnectionFacts {
  Object.defineProperty(facts, 'derived', {value: deriveFacts(facts), enumerable: false, writable: false, configurable: true})
  return facts as ConnectionFacts
}

/**
 * The derived facts of `facts`: those attached when they were assembled, or, for facts that lost
 * them (a structuredClone or a spread copy drops a non-enumerable property, a report read back
 * from JSON never had it), worked out now. For renderers, which may be handed such a report.
 */
export function derivedOf(facts: AssembledFacts & {readonly derived?: DerivedFacts}): DerivedFacts {
  return facts.derived ?? deriveFacts(facts)
}

export function deriveFacts(facts: AssembledFacts): DerivedFacts {
  const derived: DerivedFacts = {}
  const tls = facts.tls
  const tls13 = tls === undefined ? undefined : readTls13Handshake(tls)
  if (tls13 !== undefined) {
    derived.tls13 = tls13
    const flow = readUpgradeFlow(facts, tls!, tls13)
    if (flow !== undefined) derived.upgradeFlow = flow
  }
  const cut = readSnaplenCut(facts)
  if (cut !== undefined) derived.snaplenCut = cut
  return derived
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
  const start = tls.records.indexOf(flights.clientFlight[finishedIndex]) + 1
  const after: TlsRecordRef[] = []
  for (let i = start; i < tls.records.length; i++) {
    const r = tls.records[i]
    if (r.contentType === CONTENT_APPLICATION_DATA && r.length !== alert) after.push(r)
  }
  const requestIndex = after.findIndex((r) => r.direction === 'c2s')
  if (requestIndex < 0) return undefined
  const request = after[requestIndex]
  const rest = after.slice(requestIndex + 1)
  const nextClient = rest.findIndex((r) => r.direction === 'c2s')
  const answerEnd = nextClient < 0 ? rest.length : nextClient
  const answer = rest.slice(0, answerEnd).filter((r) => r.direction === 's2c')
  // Everything after the answer's last record (client records before it belong to no one: there are none).
  const lastAnswer = answer.length === 0 ? -1 : rest.lastIndexOf(answer[answer.length - 1])
  const later = lastAnswer < 0 ? [] : rest.slice(lastAnswer + 1)
  const flagAfter = (events: TcpFlagEvent[], side: 'client' | 'server') => events.find((e) => e.from === side && e.frame >= request.frame)
  return {
    request,
    requestLooksLikeUpgrade: request.length >= REQUEST_RECORD_MIN && request.length <= REQUEST_RECORD_MAX,
    answer,
    clientAfter: later.filter((r) => r.direction === 'c2s'),
    serverAfter: later.filter((r) => r.direction === 's2c'),
    fin: {client: flagAfter(facts.tcp.fin, 'client'), server: flagAfter(facts.tcp.fin, 'server')},
    rst: facts.tcp.rst.find((e) => e.frame >= request.frame),
    recordsTruncated: tls.recordsTruncated,
  }
}
