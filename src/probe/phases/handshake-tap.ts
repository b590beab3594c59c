/**
 * The probe's own handshake, read by the project's TLS reader. node:tls does not expose the
 * Console's CertificateRequest (nor its CA names: RFC 8446 §4.2.4 certificate_authorities in TLS
 * 1.3, RFC 5246 §7.4.4 in TLS 1.2), so the TLS socket runs over a pass-through stream that keeps
 * a copy of the bytes each way until the handshake is over, and the session's secrets are taken
 * from node's 'keylog' event. Afterwards TlsConnectionReader (src/protocols/tls) reads them as it
 * reads a capture with a key log: TLS 1.3's encrypted flight is decrypted, TLS 1.2's is in the
 * clear.
 *
 * The copy and the secrets stay in memory, are dropped once read, and never reach a report.
 */
import type {Socket} from 'node:net'
import {Duplex} from 'node:stream'
import {parseKeyLog, type KeyLog} from '../../keys/keylog.js'
import {MAX_PROBE_HANDSHAKE_BYTES} from '../../limits.js'
import type {CertificateRequestFacts} from '../../model/probe.js'
import {TlsConnectionReader} from '../../protocols/tls/connection.js'
import {HS_FINISHED, HS_SERVER_HELLO_DONE} from '../../protocols/tls/iana/handshake-types.js'
import type {Direction} from '../../stream/types.js'

export class HandshakeTap {
  private chunks: Array<{direction: Direction; bytes: Buffer}> = []
  private bytes = 0
  private overflowed = false
  private recording = true
  private keyLogLines: string[] = []

  /**
   * A stream over `socket` for node:tls to run on: what it writes goes to the socket, what the
   * socket receives comes out of it, both copied while recording.
   */
  wrap(socket: Socket): Duplex {
    // The pass-through is what ws sees now; keep the socket's own latency as ws would set it.
    socket.setNoDelay(true)
    const tap = this
    const stream = new Duplex({
      read() {
        socket.resume()
      },
      write(chunk: Buffer, _encoding, callback) {
        tap.record('c2s', chunk)
        socket.write(chunk, (error) => callback(error ?? null))
      },
      final(callback) {
        socket.end(() => callback())
      },
      destroy(error, callback) {
        socket.destroy(error ?? undefined)
        callback(error)
      },
    })
    socket.on('data', (chunk: Buffer) => {
      tap.record('s2c', chunk)
      if (!stream.push(chunk)) socket.pause()
    })
    socket.on('end', () => stream.push(null))
    socket.on('error', (error) => stream.destroy(error))
    socket.on('close', () => {
      if (!stream.destroyed) stream.destroy()
    })
    return stream
  }

  /** node's 'keylog' event: one NSS key log line of this session. */
  keyLogLine(line: Buffer): void {
    if (this.recording) this.keyLogLines.push(line.toString('latin1'))
  }

  private record(direction: Direction, chunk: Buffer): void {
    if (!this.recording) return
    if (this.bytes + chunk.length > MAX_PROBE_HANDSHAKE_BYTES) {
      this.overflowed = true
      this.recording = false
      return
    }
    this.bytes += chunk.length
    this.chunks.push({direction, bytes: Buffer.from(chunk)})
  }

  /**
   * Stops recording and reads the CertificateRequest from what was recorded. Call it once the
   * client has sent its final flight (the server's whole first flight has arrived by then).
   */
  readCertificateRequest(): CertificateRequestFacts {
    this.recording = false
    const log: KeyLog = parseKeyLog(this.keyLogLines.join('\n'), 'the probe\'s TLS session')
    const reader = new TlsConnectionReader({keys: {secretsFor: (random) => log.sessions.get(random), empty: log.sessions.size === 0, sealed: true}})
    this.chunks.forEach(({direction, bytes}, index) => reader.data(direction, bytes, {frame: index + 1, ts: 0}))
    const tls = reader.facts()
    this.chunks = []
    this.keyLogLines = []
    const request = tls.certificateRequest
    if (request) {
      const facts: CertificateRequestFacts = {state: 'read', decrypted: request.decrypted}
      if (request.authorities !== undefined && request.authorities.length > 0) facts.authorities = request.authorities
      return facts
    }
    // The server's flight ends with its Finished (TLS 1.3, RFC 8446 §4.4.4; a CertificateRequest
    // comes before it, §4.3.2) or ServerHelloDone (TLS 1.2, RFC 5246 §7.4.5): read to there, none means not asked.
    const end = tls.version === 0x0304 ? HS_FINISHED : HS_SERVER_HELLO_DONE
    if (tls.handshakeMessages.some((m) => m.direction === 's2c' && m.type === end)) return {state: 'not-sent'}
    return {state: 'unreadable', reason: this.overflowed ? `the handshake exceeded ${MAX_PROBE_HANDSHAKE_BYTES} bytes (MAX_PROBE_HANDSHAKE_BYTES), the rest was not kept` : unreadableReason(tls)}
  }
}

function unreadableReason(tls: ReturnType<TlsConnectionReader['facts']>): string {
  if (!tls.serverHello) return 'the server sent no ServerHello'
  const decryption = tls.decryption
  if (decryption?.keys === 'missing' || decryption?.keys === 'none') return 'node:tls logged no secret for this session, so its encrypted flight could not be read'
  if (decryption?.firstFailure) return `the server's encrypted flight did not decrypt (${decryption.firstFailure.code})`
  if (tls.oversizedHandshake) return `the server's ${tls.oversizedHandshake.typeName} is over the handshake message limit`
  return 'the server\'s flight ended before its Finished'
}
