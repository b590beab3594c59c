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
 */
import type {Issue, IssueSeverity} from '../../issues.js'
import type {Direction, FrameRef, StreamHandler} from '../../stream/types.js'
import type {KeyLookup} from '../../keys/store.js'
import {parseCertificate} from '../../analysis/x509.js'
import {parseAlerts} from './alert.js'
import {parseCertificate12} from './certificate.js'
import {parseCertificateRequest12} from './certificate-request.js'
import {parseClientHello} from './client-hello.js'
import {TlsParseError, toHex} from './errors.js'
import {DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES, HandshakeReader, type HandshakeMessage} from './handshake.js'
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
import {ja3, ja3s} from './ja3.js'
import {ja4} from './ja4.js'
import {TlsRecordReader, type TlsRecord} from './record.js'
import {parseEcdheServerKeyExchange} from './server-key-exchange.js'
import {parseServerHello} from './server-hello.js'
import type {CertificateInfo, TlsFacts} from './types.js'

export interface TlsConnectionReaderOptions {
  /** Largest handshake message accepted before an Issue stops the direction. Default 256 KiB. */
  maxHandshakeMessageBytes?: number
  /** Records kept in TlsFacts.records (both directions together). Default 256. */
  maxRecords?: number
  /** Handshake messages kept in TlsFacts.handshakeMessages. Default 256. */
  maxHandshakeMessages?: number
  /** Session secrets by client random, for decryption (looked up at the first protected record). */
  keys?: KeyLookup
}

interface DirectionState {
  records: TlsRecordReader
  handshake: HandshakeReader
  /** Handshake records of this direction are no longer plaintext. */
  handshakeProtected: boolean
  /** Alert records of this direction are encrypted (TLS 1.2 after ChangeCipherSpec). */
  alertsProtected: boolean
  /** A CCS came before any ServerHello: whether what follows is encrypted is decided by its bytes. */
  protectionUnknown?: boolean
}

/**
 * A record that is exactly one plaintext ClientHello: type 1 and a 24-bit length filling the
 * record. Ciphertext (a TLS 1.2 encrypted Finished) matches this by chance with odds of about
 * 2^-32, so it tells a second ClientHello from encrypted data.
 */
function isWholePlaintextClientHello(fragment: Uint8Array): boolean {
  return fragment.length >= 4 && fragment[0] === HS_CLIENT_HELLO && ((fragment[1]! << 16) | (fragment[2]! << 8) | fragment[3]!) + 4 === fragment.length
}

export class TlsConnectionReader implements StreamHandler {
  readonly issues: Issue[] = []
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

  constructor(options: TlsConnectionReaderOptions = {}) {
    this.maxRecords = options.maxRecords ?? 256
    this.maxHandshakeMessages = options.maxHandshakeMessages ?? 256
    const maxMessage = options.maxHandshakeMessageBytes ?? DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES
    const make = (direction: Direction): DirectionState => ({
      records: new TlsRecordReader({
        record: (record) => this.onRecord(direction, record),
        malformed: (code, message, ref) => this.issue(code, 'error', `${direction}: ${message}`, ref),
      }),
      handshake: new HandshakeReader(
        {
          message: (message) => this.onHandshake(direction, message),
          malformed: (code, message, ref) => this.issue(code, 'error', `${direction}: ${message}`, ref),
        },
        maxMessage,
      ),
      handshakeProtected: false,
      alertsProtected: false,
    })
    this.dirs = {c2s: make('c2s'), s2c: make('s2c')}
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
    this.issue('tls.gap', 'warn', `${direction}: ${size} bytes never captured; TLS records after frame ${ref.frame} cannot be framed`, ref)
  }

  /** A stream that ends inside a record or handshake message was cut short. */
  end(direction: Direction | 'both', ref: FrameRef): void {
    for (const d of direction === 'both' ? (['c2s', 's2c'] as const) : [direction]) {
      const dir = this.dirs[d]
      if (dir.records.stopped) continue
      const pending = dir.records.pendingBytes + dir.handshake.pendingBytes
      if (pending > 0) this.issue('tls.truncated', 'warn', `${d}: stream ended with ${pending} bytes of an incomplete record or handshake message`, ref)
    }
  }

  facts(): TlsFacts {
    for (const direction of ['c2s', 's2c'] as const) {
      const notTls = this.dirs[direction].records.notTls
      if (notTls) {
        this.state.notTls = {direction, frame: notTls.ref.frame, firstBytes: toHex(notTls.firstBytes)}
        break
      }
    }
    return this.state
  }

  private issue(code: string, severity: IssueSeverity, message: string, ref: FrameRef): void {
    this.issues.push({code, severity, message, frame: ref.frame})
  }

  private onRecord(direction: Direction, record: TlsRecord): void {
    const {contentType, fragment, ref} = record
    const totals = this.state.totals[direction]
    totals.records++
    totals.bytes += 5 + fragment.length
    if (this.state.records.length < this.maxRecords) {
      this.state.records.push({frame: ref.frame, ts: ref.ts, direction, contentType, version: record.version, length: fragment.length})
    } else {
      this.state.recordsTruncated = true
    }
    const dir = this.dirs[direction]
    switch (contentType) {
      case CONTENT_CHANGE_CIPHER_SPEC:
        // RFC 5246 §7.1: the message is a single byte of value 1.
        if (fragment.length !== 1 || fragment[0] !== 1) {
          this.issue('tls.malformed-change-cipher-spec', 'warn', `${direction}: ChangeCipherSpec of ${fragment.length} bytes (expected the single byte 01)`, ref)
        }
        this.state.changeCipherSpec[direction] ??= {frame: ref.frame, ts: ref.ts}
        if (direction === 'c2s' && !this.state.serverHello && !this.state.helloRetryRequest) {
          // A client CCS before any ServerHello we saw: either TLS 1.2 whose server flight was not
          // captured, or TLS 1.3's compatibility CCS before a second ClientHello answering an
          // uncaptured HelloRetryRequest (RFC 8446 §D.4). The next handshake record decides.
          dir.protectionUnknown = true
        } else if (!this.tls13) {
          if (dir.handshake.pendingBytes > 0) {
            this.issue('tls.handshake-spans-key-change', 'error', `${direction}: a handshake message was incomplete at ChangeCipherSpec (RFC 5246 §7.1)`, ref)
          }
          dir.handshakeProtected = true
          dir.alertsProtected = true
        }
        break
      case CONTENT_ALERT:
        if (!dir.alertsProtected) this.onAlert(direction, fragment, ref)
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
        break
      case CONTENT_APPLICATION_DATA:
        totals.applicationData++
        totals.applicationDataBytes += fragment.length
        break
      default:
        break
    }
  }

  private onAlert(direction: Direction, fragment: Uint8Array, ref: FrameRef): void {
    try {
      for (const alert of parseAlerts(fragment)) {
        this.state.alerts.push({frame: ref.frame, ts: ref.ts, from: direction === 'c2s' ? 'client' : 'server', ...alert, decrypted: false})
      }
    } catch (err) {
      this.parseIssue('tls.malformed-alert', direction, 'alert', err, ref)
    }
  }

  private onHandshake(direction: Direction, message: HandshakeMessage): void {
    const {type, body, ref} = message
    const typeName = nameOf(HANDSHAKE_TYPES, type)
    if (this.state.handshakeMessages.length < this.maxHandshakeMessages) {
      this.state.handshakeMessages.push({frame: ref.frame, ts: ref.ts, direction, type, typeName, length: body.length, decrypted: false})
    } else if (!this.handshakeMessagesTruncated) {
      this.handshakeMessagesTruncated = true
      this.issue('tls.handshake-messages-truncated', 'info', `more than ${this.maxHandshakeMessages} handshake messages; the rest are not listed`, ref)
    }
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
    this.state.clientHellos.push({frame: ref.frame, ts: ref.ts, ...hello, ...ja3(hello), ...ja4(hello, 't')})
  }

  private onServerHello(direction: Direction, body: Uint8Array, ref: FrameRef): void {
    if (direction !== 's2c') this.issue('tls.unexpected-direction', 'warn', 'ServerHello sent by the side taken for the client', ref)
    const hello = parseServerHello(body)
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

  private onCertificate(direction: Direction, body: Uint8Array, ref: FrameRef): void {
    // Plaintext Certificate messages exist only before TLS 1.3 (RFC 5246 §7.4.2 layout).
    const message = parseCertificate12(body)
    const certificates: CertificateInfo[] = message.entries.map((entry) => parseCertificate(entry.der))
    const info = {frame: ref.frame, ts: ref.ts, from: direction === 'c2s' ? ('client' as const) : ('server' as const), certificates, decrypted: false}
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
    this.issue(code, 'error', `${direction}: malformed ${what} (${err.code} at offset ${err.offset}): ${err.message}`, ref)
  }
}
