/**
 * TlsConnectionReader: one TCP connection's two byte streams → TlsFacts. Per direction a record
 * reader (record.ts) frames records; plaintext handshake records feed a handshake reader
 * (handshake.ts) whose messages go to the parsers. Bad input becomes an Issue in `issues`,
 * never an exception.
 *
 * When records stop being plaintext (RFC 8446 §2, RFC 5246 §7.1):
 * - TLS 1.2 and earlier: after a direction's ChangeCipherSpec, its handshake (Finished) and
 *   alert records are encrypted.
 * - TLS 1.3: after the ServerHello both directions protect their handshake messages inside
 *   application_data records; ChangeCipherSpec is only the middlebox-compatibility dummy
 *   (RFC 8446 §D.4) and changes nothing. An alert record (type 21) is always plaintext in 1.3,
 *   since protected alerts travel as application_data.
 *
 * With a key log (options.keys) the protected records are decrypted (decryption.ts) and read like
 * the plaintext ones: the inner content type routes them (RFC 8446 §5.2) — handshake to a second
 * handshake reader per direction, alerts to `alerts`, application data to onApplicationData.
 * Decrypted handshake messages are listed with decrypted: true. Without keys nothing of this runs.
 */
import {countOmitted, LIST_CAPS, pushCapped, type Truncated} from '../../lists.js'
import type {Issue, IssueSeverity} from '../../issues.js'
import {senderOf, type Direction, type FrameRef, type StreamHandler} from '../../stream/types.js'
import {parseCertificate} from './x509.js'
import {parseAlerts} from './alert.js'
import {parseCertificate12, parseCertificate13} from './certificate.js'
import {parseCertificateRequest12, parseCertificateRequest13} from './certificate-request.js'
import {parseClientHello} from './client-hello.js'
import {SessionDecryption, type SessionKeys} from './decryption.js'
import {TlsParseError, toHex} from './errors.js'
import {DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES} from '../../limits.js'
import {HandshakeReader, type HandshakeMessage, type HandshakeReaderEvents, type OversizedHandshake} from './handshake.js'
import {CIPHER_SUITES} from './iana/cipher-suites.js'
import {
  CONTENT_ALERT,
  CONTENT_APPLICATION_DATA,
  CONTENT_CHANGE_CIPHER_SPEC,
  CONTENT_HANDSHAKE,
} from './iana/content-types.js'
import {
  HANDSHAKE_TYPES,
  HS_CERTIFICATE,
  HS_CERTIFICATE_REQUEST,
  HS_CLIENT_HELLO,
  HS_SERVER_HELLO,
  HS_SERVER_KEY_EXCHANGE,
} from './iana/handshake-types.js'
import {nameOf} from './iana/table.js'
import {TLS_1_3, VERSIONS} from './iana/versions.js'
import {clientHelloFingerprints} from './fingerprints.js'
import {ja3s} from './ja3.js'
import {TlsRecordReader, type RecordReaderEvents, type TlsRecord} from './record.js'
import {parseEcdheServerKeyExchange} from './server-key-exchange.js'
import {parseServerHello} from './server-hello.js'
import type {CertificateInfo, TlsAlertInfo, TlsFacts} from './types.js'

export interface TlsConnectionReaderOptions {
  /** Largest handshake message accepted before an Issue stops the direction. Default 1 MiB. */
  maxHandshakeMessageBytes?: number
  /** Records kept in TlsFacts.records (both directions together). Default 256. */
  maxRecords?: number
  /** Handshake messages kept in TlsFacts.handshakeMessages. Default 256. */
  maxHandshakeMessages?: number
  /** Session secrets by client random, for decryption (looked up at the first protected record). */
  keys?: SessionKeys
  /**
   * Decrypted application data, in order per direction (the HTTP/WebSocket readers chain here).
   * The bytes are valid only during the call.
   */
  onApplicationData?: (direction: Direction, bytes: Uint8Array, ref: FrameRef) => void
}

/**
 * One direction of the connection: its record and handshake readers, and the events they send,
 * routed back to the connection reader with the direction. A class rather than closures: two per
 * connection instead of ten function objects, on captures of 100,000 connections.
 */
class DirectionState implements RecordReaderEvents, HandshakeReaderEvents {
  readonly records: TlsRecordReader
  readonly handshake: HandshakeReader
  /** Handshake records of this direction are no longer plaintext. */
  handshakeProtected = false
  /** Alert records of this direction are encrypted (TLS 1.2 after ChangeCipherSpec). */
  alertsProtected = false
  /** A CCS came before any ServerHello: whether what follows is encrypted is decided by its bytes. */
  protectionUnknown = false
  /** Reassembles handshake messages from decrypted records (created at the first one). */
  decryptedHandshake: HandshakeReader | undefined = undefined

  constructor(
    private readonly reader: TlsConnectionReader,
    readonly direction: Direction,
    maxMessage: number,
  ) {
    this.records = new TlsRecordReader(this)
    this.handshake = new HandshakeReader(this, maxMessage)
  }

  record(record: TlsRecord): void {
    this.reader.onRecord(this, record)
  }

  /** Without a key log for the session, an encrypted record is only its length: not copied. */
  wantsFragment(contentType: number): boolean {
    return this.reader.wantsFragment(this.direction, contentType)
  }

  malformed(code: string, message: string, ref: FrameRef, oversized?: OversizedHandshake): void {
    this.reader.issue(code, 'error', `from the ${senderOf(this.direction)}: ${message}`, ref)
    if (oversized) this.reader.onOversized(this.direction, oversized, ref, false)
  }

  message(message: HandshakeMessage): void {
    this.reader.onHandshake(this.direction, message)
  }
}

/**
 * A record that is exactly one plaintext ClientHello: type 1 and a 24-bit length filling the
 * record. Ciphertext (a TLS 1.2 encrypted Finished) matches this by chance with odds of about
 * 2^-32, so it tells a second ClientHello from encrypted data.
 */
function isWholePlaintextClientHello(fragment: Uint8Array): boolean {
  return fragment.length >= 4 && fragment[0] === HS_CLIENT_HELLO && ((fragment[1]! << 16) | (fragment[2]! << 8) | fragment[3]!) + 4 === fragment.length
}

/** RFC 8446 §6: AlertLevel fatal(2); AlertDescription close_notify(0). */
const ALERT_LEVEL_FATAL = 2
const ALERT_CLOSE_NOTIFY = 0

export class TlsConnectionReader implements StreamHandler {
  /** The first LIST_CAPS.issuesPerSource issues; `truncated.issues` counts the rest. */
  readonly issues: Issue[] = []
  truncated?: Truncated
  private readonly state: TlsFacts = {
    clientHellos: [],
    changeCipherSpec: {},
    alerts: [],
    handshakeMessages: [],
    records: [],
    recordsTruncated: false,
    totals: {
      c2s: {records: 0, bytes: 0, applicationData: 0, applicationDataBytes: 0},
      s2c: {records: 0, bytes: 0, applicationData: 0, applicationDataBytes: 0},
    },
  }
  private readonly dirs: Record<Direction, DirectionState>
  private readonly maxRecords: number
  private readonly maxHandshakeMessages: number
  private handshakeMessagesTruncated = false
  /** TLS 1.3 was selected (by a HelloRetryRequest or the ServerHello). */
  private tls13 = false
  private readonly maxMessage: number
  /** Present only with a key log: connections without keys never touch it. */
  private readonly decryption: SessionDecryption | undefined
  private readonly onApplicationData: TlsConnectionReaderOptions['onApplicationData']

  constructor(options: TlsConnectionReaderOptions = {}) {
    this.maxRecords = options.maxRecords ?? LIST_CAPS.records
    this.maxHandshakeMessages = options.maxHandshakeMessages ?? LIST_CAPS.handshakeMessages
    const maxMessage = options.maxHandshakeMessageBytes ?? DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES
    this.maxMessage = maxMessage
    this.onApplicationData = options.onApplicationData
    this.decryption = options.keys && new SessionDecryption(options.keys, {issue: (code, severity, message, ref) => this.issue(code, severity, message, ref)})
    this.dirs = {c2s: new DirectionState(this, 'c2s', maxMessage), s2c: new DirectionState(this, 's2c', maxMessage)}
  }

  data(direction: Direction, bytes: Uint8Array, ref: FrameRef): void {
    this.dirs[direction].records.push(bytes, ref)
  }

  /** A hole in the stream cannot be framed across: that direction stops being parsed. */
  gap(direction: Direction, size: number, ref: FrameRef): void {
    const dir = this.dirs[direction]
    if (dir.records.stopped) return
    dir.records.stop()
    dir.handshake.stop()
    dir.decryptedHandshake?.stop()
    this.issue('tls.gap', 'warn', `from the ${senderOf(direction)}: ${size} bytes never captured; TLS records after frame ${ref.frame} cannot be framed`, ref)
  }

  /** A stream that ends inside a record or handshake message was cut short. */
  end(direction: Direction | 'both', ref: FrameRef): void {
    for (const d of direction === 'both' ? (['c2s', 's2c'] as const) : [direction]) {
      const dir = this.dirs[d]
      if (dir.records.stopped) continue
      const pending = dir.records.pendingBytes + dir.handshake.pendingBytes + (dir.decryptedHandshake?.pendingBytes ?? 0)
      if (pending > 0) this.issue('tls.truncated', 'warn', `from the ${senderOf(d)}: stream ended with ${pending} bytes of an incomplete record or handshake message`, ref)
    }
  }

  facts(): TlsFacts {
    for (const direction of ['c2s', 's2c'] as const) {
      const notTls = this.dirs[direction].records.notTls
      if (notTls) {
        this.state.notTls = {direction, frame: notTls.ref.frame, ts: notTls.ref.ts, firstBytes: toHex(notTls.firstBytes)}
        break
      }
    }
    if (this.decryption?.facts) {
      this.state.decryption = this.decryption.facts
      const {client, server} = this.decryption.finished
      if (client || server) this.state.finished = this.decryption.finished
    }
    return this.state
  }

  /** (Called by DirectionState.) */
  issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void {
    pushCapped(this, 'issues', this.issues, LIST_CAPS.issuesPerSource, {code, severity, message, frame: ref.frame})
  }

  /** (Called by DirectionState.) Application data is copied only when it may be decrypted. */
  wantsFragment(direction: Direction, contentType: number): boolean {
    return contentType !== CONTENT_APPLICATION_DATA || (this.decryption?.mayDecrypt(direction) ?? false)
  }

  /** (Called by DirectionState.) */
  onRecord(dir: DirectionState, record: TlsRecord): void {
    const {contentType, fragment, length, ref} = record
    const direction = dir.direction
    const totals = this.state.totals[direction]
    totals.records++
    totals.bytes += 5 + length
    if (!pushCapped(this.state, 'records', this.state.records, this.maxRecords, {frame: ref.frame, ts: ref.ts, direction, contentType, version: record.version, length})) {
      this.state.recordsTruncated = true
    }
    switch (contentType) {
      case CONTENT_CHANGE_CIPHER_SPEC:
        // RFC 5246 §7.1: the message is a single byte of value 1.
        if (fragment.length !== 1 || fragment[0] !== 1) {
          this.issue('tls.malformed-change-cipher-spec', 'warn', `from the ${senderOf(direction)}: ChangeCipherSpec of ${fragment.length} bytes (expected the single byte 01)`, ref)
        }
        this.state.changeCipherSpec[direction] ??= {frame: ref.frame, ts: ref.ts}
        if (direction === 'c2s' && !this.state.serverHello && !this.state.helloRetryRequest) {
          // A client CCS before any ServerHello we saw: either TLS 1.2 whose server flight was not
          // captured, or TLS 1.3's compatibility CCS before a second ClientHello answering an
          // uncaptured HelloRetryRequest (RFC 8446 §D.4). The next handshake record decides.
          dir.protectionUnknown = true
        } else if (!this.tls13) {
          if (dir.handshake.pendingBytes > 0) {
            this.issue('tls.handshake-spans-key-change', 'error', `from the ${senderOf(direction)}: a handshake message was incomplete at ChangeCipherSpec (RFC 5246 §7.1)`, ref)
          }
          dir.handshakeProtected = true
          dir.alertsProtected = true
        }
        break
      case CONTENT_ALERT:
        if (!dir.alertsProtected) this.onAlert(direction, fragment, ref, false)
        else if (this.decryption) this.onProtectedRecord(direction, record)
        break
      case CONTENT_HANDSHAKE:
        if (dir.protectionUnknown) {
          dir.protectionUnknown = false
          if (!isWholePlaintextClientHello(fragment)) {
            dir.handshakeProtected = true
            dir.alertsProtected = true
          }
        }
        if (!dir.handshakeProtected && !dir.handshake.stopped) dir.handshake.push(fragment, ref)
        else if (this.decryption && !this.tls13 && dir.alertsProtected) this.onProtectedRecord(direction, record)
        break
      case CONTENT_APPLICATION_DATA:
        totals.applicationData++
        totals.applicationDataBytes += length
        // TLS 1.3: protected once the ServerHello is seen (client records before it are 0-RTT
        // data, not decrypted); TLS 1.2: once the direction's ChangeCipherSpec is seen.
        if (this.decryption && (this.tls13 ? this.state.serverHello !== undefined : dir.alertsProtected)) this.onProtectedRecord(direction, record)
        break
      default:
        break
    }
  }

  /** Decrypt a protected record and route its content by the inner content type (RFC 8446 §5.2). */
  private onProtectedRecord(direction: Direction, record: TlsRecord): void {
    const {ref} = record
    const decrypted = this.decryption!.decrypt(direction, record.contentType, record.version, record.fragment, ref)
    if (!decrypted) return
    const {contentType, plaintext} = decrypted
    switch (contentType) {
      case CONTENT_HANDSHAKE: {
        const dir = this.dirs[direction]
        dir.decryptedHandshake ??= new HandshakeReader(
          {
            message: (message) => this.onDecryptedHandshake(direction, message),
            malformed: (code, message, at, oversized) => {
              this.issue(code, 'error', `from the ${senderOf(direction)}: ${message} (decrypted)`, at)
              this.onOversized(direction, oversized, at, true)
            },
          },
          this.maxMessage,
        )
        dir.decryptedHandshake.push(plaintext, ref)
        break
      }
      case CONTENT_ALERT:
        this.onAlert(direction, plaintext, ref, true)
        break
      case CONTENT_APPLICATION_DATA:
        this.onApplicationData?.(direction, plaintext, ref)
        break
      default:
        this.issue('tls.unexpected-content-type', 'warn', `from the ${senderOf(direction)}: decrypted record of content type ${contentType}`, ref)
        break
    }
  }

  /** (Called by DirectionState.) The first message refused for its length, so checks can name it. */
  onOversized(direction: Direction, oversized: OversizedHandshake, ref: FrameRef, decrypted: boolean): void {
    this.state.oversizedHandshake ??= {frame: ref.frame, ts: ref.ts, direction, ...oversized, typeName: nameOf(HANDSHAKE_TYPES, oversized.type), decrypted}
  }

  private onAlert(direction: Direction, fragment: Uint8Array, ref: FrameRef, decrypted: boolean): void {
    try {
      for (const alert of parseAlerts(fragment)) {
        const info: TlsAlertInfo = {frame: ref.frame, ts: ref.ts, from: direction === 'c2s' ? 'client' : 'server', ...alert, decrypted}
        if (this.state.alerts.length < LIST_CAPS.alerts || this.firstOfItsKind(info)) this.state.alerts.push(info)
        else countOmitted(this.state, 'alerts', 1)
      }
    } catch (err) {
      this.parseIssue('tls.malformed-alert', direction, 'alert', err, ref)
    }
  }

  /**
   * Past the alerts cap, the first fatal alert and the first alert other than close_notify are
   * still listed (at most two more): tls.alerts judges by them, and a PASS "no fatal alert" must
   * not rest on the fatal one having come after the first LIST_CAPS.alerts.
   */
  private firstOfItsKind(info: TlsAlertInfo): boolean {
    const alerts = this.state.alerts
    if (info.level === ALERT_LEVEL_FATAL && !alerts.some((a) => a.level === ALERT_LEVEL_FATAL)) return true
    return info.description !== ALERT_CLOSE_NOTIFY && !alerts.some((a) => a.description !== ALERT_CLOSE_NOTIFY)
  }

  /** Lists a handshake message in TlsFacts.handshakeMessages (up to the cap); returns its name. */
  private listHandshake(direction: Direction, message: HandshakeMessage, decrypted: boolean): string {
    const {type, body, ref} = message
    const typeName = nameOf(HANDSHAKE_TYPES, type)
    const listed = pushCapped(this.state, 'handshakeMessages', this.state.handshakeMessages, this.maxHandshakeMessages, {frame: ref.frame, ts: ref.ts, direction, type, typeName, length: body.length, decrypted})
    if (!listed && !this.handshakeMessagesTruncated) {
      this.handshakeMessagesTruncated = true
      this.issue('tls.handshake-messages-truncated', 'info', `more than ${this.maxHandshakeMessages} handshake messages; the rest are not listed`, ref)
    }
    return typeName
  }

  /** (Called by DirectionState.) */
  onHandshake(direction: Direction, message: HandshakeMessage): void {
    const {type, body, ref} = message
    const typeName = this.listHandshake(direction, message, false)
    // ClientHello and ServerHello enter the transcript from their parsers (they need the parse).
    if (this.decryption && type !== HS_CLIENT_HELLO && type !== HS_SERVER_HELLO) this.decryption.plaintextHandshake(type, body)
    try {
      switch (type) {
        case HS_CLIENT_HELLO:
          this.onClientHello(direction, body, ref)
          break
        case HS_SERVER_HELLO:
          this.onServerHello(direction, body, ref)
          break
        case HS_CERTIFICATE:
          this.onCertificate(direction, body, ref)
          break
        case HS_CERTIFICATE_REQUEST: {
          const request = parseCertificateRequest12(body)
          this.state.certificateRequest ??= {
            frame: ref.frame,
            ts: ref.ts,
            decrypted: false,
            signatureAlgorithms: request.signatureAlgorithms,
            authorities: request.authorities,
          }
          break
        }
        case HS_SERVER_KEY_EXCHANGE:
          this.onServerKeyExchange(body, ref)
          break
        default:
          break
      }
    } catch (err) {
      this.parseIssue('tls.malformed-handshake', direction, typeName, err, ref)
    }
  }

  private onClientHello(direction: Direction, body: Uint8Array, ref: FrameRef): void {
    if (direction !== 'c2s') this.issue('tls.unexpected-direction', 'warn', 'ClientHello sent by the side taken for the server', ref)
    const hello = parseClientHello(body)
    this.decryption?.clientHello(body, hello.random)
    // Past the cap a ClientHello is counted, not fingerprinted: each one kept costs ~5 KB.
    if (this.state.clientHellos.length < LIST_CAPS.clientHellos) this.state.clientHellos.push({frame: ref.frame, ts: ref.ts, ...hello, ...clientHelloFingerprints(hello)})
    else countOmitted(this.state, 'clientHellos', 1)
  }

  private onServerHello(direction: Direction, body: Uint8Array, ref: FrameRef): void {
    if (direction !== 's2c') this.issue('tls.unexpected-direction', 'warn', 'ServerHello sent by the side taken for the client', ref)
    const hello = parseServerHello(body)
    this.decryption?.serverHello(hello, body)
    const info = {frame: ref.frame, ts: ref.ts, ...hello, ...ja3s(hello)}
    if (hello.version === TLS_1_3) this.tls13 = true
    if (hello.helloRetryRequest) {
      this.state.helloRetryRequest ??= info
      return
    }
    if (this.state.serverHello) {
      this.issue('tls.duplicate-server-hello', 'warn', 'a second ServerHello on the connection (kept the first)', ref)
      return
    }
    this.state.serverHello = info
    this.state.version = hello.version
    this.state.versionName = nameOf(VERSIONS, hello.version)
    this.state.cipherSuite = hello.cipherSuite
    this.state.cipherSuiteName = nameOf(CIPHER_SUITES, hello.cipherSuite)
    if (this.tls13) {
      // RFC 8446 §2: everything after the ServerHello is protected with handshake keys.
      this.dirs.c2s.handshakeProtected = true
      this.dirs.s2c.handshakeProtected = true
    }
  }

  /** A handshake message from decrypted records: Finished and key changes first, then the facts. */
  private onDecryptedHandshake(direction: Direction, message: HandshakeMessage): void {
    const {type, body, ref} = message
    const typeName = this.listHandshake(direction, message, true)
    this.decryption!.decryptedHandshake(direction, type, body, ref)
    try {
      switch (type) {
        case HS_CERTIFICATE:
          this.onCertificate(direction, body, ref, true)
          break
        case HS_CERTIFICATE_REQUEST: {
          const request = this.tls13 ? parseCertificateRequest13(body) : parseCertificateRequest12(body)
          this.state.certificateRequest ??= {
            frame: ref.frame,
            ts: ref.ts,
            decrypted: true,
            signatureAlgorithms: request.signatureAlgorithms,
            authorities: request.authorities,
          }
          break
        }
        default:
          break
      }
    } catch (err) {
      this.parseIssue('tls.malformed-handshake', direction, `${typeName} (decrypted)`, err, ref)
    }
  }

  private onCertificate(direction: Direction, body: Uint8Array, ref: FrameRef, decrypted = false): void {
    // Plaintext Certificate messages exist only before TLS 1.3 (RFC 5246 §7.4.2 layout); a
    // decrypted one has the TLS 1.3 layout (RFC 8446 §4.4.2) when 1.3 was negotiated.
    const message = decrypted && this.tls13 ? parseCertificate13(body) : parseCertificate12(body)
    const certificates: CertificateInfo[] = message.entries.map((entry) => parseCertificate(entry.der))
    const info = {frame: ref.frame, ts: ref.ts, from: direction === 'c2s' ? ('client' as const) : ('server' as const), certificates, decrypted}
    if (direction === 's2c') this.state.serverCertificate ??= info
    else this.state.clientCertificate ??= info
  }

  private onServerKeyExchange(body: Uint8Array, ref: FrameRef): void {
    const cipher = this.state.cipherSuite === undefined ? undefined : CIPHER_SUITES.get(this.state.cipherSuite)
    // Only ECDHE suites carry ServerECDHParams (RFC 8422 §5.4); DHE/PSK layouts differ.
    const namedCurve = cipher?.includes('_ECDHE_') ? parseEcdheServerKeyExchange(body).namedCurve : undefined
    this.state.serverKeyExchange ??= namedCurve === undefined ? {frame: ref.frame, ts: ref.ts} : {frame: ref.frame, ts: ref.ts, namedCurve}
  }

  private parseIssue(code: string, direction: Direction, what: string, err: unknown, ref: FrameRef): void {
    if (!(err instanceof TlsParseError)) throw err
    this.issue(code, 'error', `from the ${senderOf(direction)}: malformed ${what} (${err.code} at offset ${err.offset}): ${err.message}`, ref)
  }
}
