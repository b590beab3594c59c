/**
 * One session of `watch`, held the way a Defender holds its channel: the probe's own phases
 * (DNS, TCP, TLS with the Defender's certificate, the WebSocket upgrade) open it, then it stays
 * open and is pinged every --ping-interval until it ends (RFC 6455 §5.5.2-3). How it ended is
 * what the session record says: a Close frame and its code (§7.4), a TCP RST or FIN without a
 * Close (§7.1.5's 1006), an unanswered ping, a TLS alert, or a message over the size cap (1009).
 */
import {isIP} from 'node:net'
import type {TLSSocket} from 'node:tls'
import type {SessionEndedBy, SessionEndReason} from '../../model/defenders.js'
import type {ProbeFacts, ProbeFailure} from '../../model/probe.js'
import {redactUrl} from '../../secrets.js'
import {alertOf, failureOf, formatSeconds} from '../failure.js'
import {noteAlert} from '../phases/common.js'
import {connectTcpPhase} from '../phases/connect.js'
import {resolveName} from '../phases/dns.js'
import {ping} from '../phases/ping.js'
import {tlsHandshake} from '../phases/tls.js'
import {upgradeToWebSocket, type OpenSession} from '../phases/upgrade.js'
import type {ProbeOptions} from '../probe.js'
import {clockSkewOf} from '../../checks/probe/clock-skew.js'

/** What opening a session saw; `open` is set when the upgrade succeeded and the session is held. */
export interface OpenedChannel {
  facts: ProbeFacts
  open?: OpenSession
  /** The TLS socket under `open` (its errors name a TLS alert). */
  tls?: TLSSocket
  /** Console clock minus ours, from the 101's Date header (seconds). */
  clockSkewSeconds?: number
}

/** How a held session ended. */
export interface ChannelEnd {
  reason: SessionEndReason
  by: SessionEndedBy
  wsCloseCode?: number
  /** In words, for events and the session's facts. */
  error?: ProbeFailure
  pings: number
  pongs: number
  maxRttMs?: number
  /** Seconds with nothing sent or received before the end. */
  idleSeconds: number
}

export interface HoldOptions {
  pingIntervalMs: number
  /** A ping unanswered this long ends the session (ping-timeout). */
  pingTimeoutMs: number
  /** Aborted: the session is closed cleanly (1000) and the hold ends. */
  signal: AbortSignal
  /** Each answered ping's round trip (ms). */
  onPong?(rttMs: number): void
}

/** Close reason sent on a clean stop (RFC 6455 §7.1.6: informative only). */
const STOP_REASON = 'defender-check watch stopped'

/** DNS, TCP, TLS and the upgrade, as the probe does them; no proxy (a Defender's proxy is for `probe`). */
export async function openChannel(options: ProbeOptions): Promise<OpenedChannel> {
  const start = Date.now()
  const {target} = options
  const facts: ProbeFacts = {
    kind: 'probe',
    target: {...target, url: redactUrl(target.url), path: redactUrl(target.path)},
    startedAt: new Date(start).toISOString(),
    endedAt: '',
    dns: {name: target.host, literal: isIP(target.host) !== 0, addresses: []},
    tcp: {startTs: start / 1000, endTs: start / 1000, attempts: [], viaProxy: false},
    issues: [],
  }
  const done = (channel: OpenedChannel): OpenedChannel => {
    facts.endedAt = new Date().toISOString()
    facts.tcp.endTs = Date.now() / 1000
    return channel
  }
  if (!(await resolveName(facts.dns, options.timeoutMs))) return done({facts})
  const socket = await connectTcpPhase(facts, target.port, options.timeoutMs)
  if (!socket) return done({facts})
  const handshake = await tlsHandshake(socket, options, undefined)
  facts.handshake = handshake.facts
  if (!handshake.socket) {
    socket.destroy()
    return done({facts})
  }
  const open = await upgradeToWebSocket(handshake.socket, target.url, facts, options)
  if (!open) {
    socket.destroy()
    return done({facts})
  }
  // The probe's clock.skew reading of the 101's Date header (checks/probe/clock-skew.ts), in seconds.
  const clock = facts.clock ? clockSkewOf(facts.clock) : undefined
  const skew = clock !== undefined && 'skewMs' in clock ? clock.skewMs / 1000 : undefined
  const tls = handshake.socket
  return done(skew === undefined ? {facts, open, tls} : {facts, open, tls, clockSkewSeconds: skew})
}

/** Keeps the session open and pinged until it ends or `signal` stops it; never rejects. */
export function holdChannel(channel: OpenSession, tls: TLSSocket | undefined, options: HoldOptions): Promise<ChannelEnd> {
  const {ws} = channel
  let pings = 0
  let pongs = 0
  let maxRttMs: number | undefined
  let lastActivity = performance.now()
  let stopping = false
  let pingTimedOut: ProbeFailure | undefined
  // An error ws reported before this hold began (a hostile frame can arrive in the same read as the
  // 101, before the caller gets here): the upgrade phase kept it.
  let socketError: unknown = channel.lastError()
  const touch = () => {
    lastActivity = performance.now()
  }
  // What arrives is read and dropped: nothing the Console sends is kept (ws caps each message).
  ws.on('message', touch)
  ws.on('pong', touch)
  ws.on('ping', touch)
  // ws answered a protocol violation with a Close frame (RFC 6455 §7.1.7) and waits 30 s for the
  // Console's; a hostile one never sends it.
  const cutAfterRefusal = () => setTimeout(() => ws.terminate(), options.pingTimeoutMs).unref()
  if (socketError !== undefined) cutAfterRefusal()
  ws.on('error', (error) => {
    socketError ??= error
    cutAfterRefusal()
  })
  tls?.on('error', (error) => {
    socketError ??= error
  })

  return new Promise<ChannelEnd>((resolve) => {
    let timer: NodeJS.Timeout | undefined
    const onAbort = () => {
      stopping = true
      if (timer) clearTimeout(timer)
      ws.close(1000, STOP_REASON)
      // A Console that does not answer the close within a ping timeout is cut (RFC 6455 §7.1.1 lets the client close TCP).
      timer = setTimeout(() => ws.terminate(), options.pingTimeoutMs)
      timer.unref()
    }
    const schedule = () => {
      timer = setTimeout(() => {
        if (stopping) return
        pings++
        touch()
        ping(ws, options.pingTimeoutMs).then(
          (rtt) => {
            pongs++
            maxRttMs = Math.max(maxRttMs ?? 0, rtt)
            options.onPong?.(rtt)
            if (!stopping) schedule()
          },
          (error: unknown) => {
            if (stopping || ws.readyState !== ws.OPEN) return
            pingTimedOut = failureOf(error)
            ws.terminate()
          },
        )
      }, options.pingIntervalMs)
    }
    const onClose = (code: number, reasonBuffer: Buffer) => {
      if (timer) clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
      const idleSeconds = Math.round(performance.now() - lastActivity) / 1000
      const base = {pings, pongs, idleSeconds, ...(maxRttMs === undefined ? {} : {maxRttMs})}
      resolve({...base, ...classify(code, reasonBuffer.toString('utf8'), {stopping, pingTimedOut, socketError, pingTimeoutMs: options.pingTimeoutMs})})
    }
    // Already closed before this hold began: its 'close' event is gone, so judge it now (1006: no Close frame seen here).
    if (ws.readyState === ws.CLOSED) {
      onClose(1006, Buffer.alloc(0))
      return
    }
    ws.once('close', onClose)
    if (options.signal.aborted) onAbort()
    else {
      options.signal.addEventListener('abort', onAbort, {once: true})
      schedule()
    }
  })
}

interface EndContext {
  stopping: boolean
  pingTimedOut: ProbeFailure | undefined
  socketError: unknown
  pingTimeoutMs: number
}

/** Who ended the session and how, from the close code ws reports and what led to it. */
function classify(code: number, reason: string, context: EndContext): Pick<ChannelEnd, 'reason' | 'by' | 'wsCloseCode' | 'error'> {
  const {socketError} = context
  if (context.pingTimedOut) return {reason: 'ping-timeout', by: 'client', error: {code: 'PING_TIMEOUT', message: `no pong within ${formatSeconds(context.pingTimeoutMs)}: the session was cut`}}
  const alert = alertOf(socketError)
  if (alert) return {reason: 'tls-alert', by: 'server', error: {code: `TLS_ALERT_${alert.description}`, message: `the Console sent the TLS alert ${alert.name} (${alert.description})`}}
  const errno = (socketError as NodeJS.ErrnoException | undefined)?.code
  // ws' own refusals of what the Console sent (a message over maxPayload: 1009; a protocol error: 1002) carry the close code it sent.
  if (errno !== undefined && errno.startsWith('WS_ERR_')) return {reason: 'error', by: 'client', wsCloseCode: sentCloseCode(errno, code), error: failureOf(socketError)}
  if (errno === 'ECONNRESET' || errno === 'EPIPE') return {reason: 'rst', by: 'server', error: failureOf(socketError)}
  if (context.stopping) return {reason: 'ws-close', by: 'client', wsCloseCode: code}
  // 1006 (RFC 6455 §7.1.5): the TCP connection closed without a Close frame: a FIN.
  if (code === 1006) return {reason: 'fin', by: 'server', error: {code: 'WS_CLOSED', message: 'the connection closed without a WebSocket Close frame (1006)'}}
  return {reason: 'ws-close', by: 'server', wsCloseCode: code, error: {code: 'WS_CLOSED', message: `the Console closed the session with code ${code}${reason ? ` (${reason})` : ''}`}}
}

/**
 * The close code ws sent when it refused what the Console sent (its receiver's codes, RFC 6455
 * §7.4.1): ws reports the close as 1006 when the Console never answers the Close frame.
 */
function sentCloseCode(errno: string, reported: number): number {
  if (errno === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || errno === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009
  if (errno === 'WS_ERR_INVALID_UTF8') return 1007
  return reported === 1006 ? 1002 : reported
}

/** Marks the phase a post-handshake alert arrived in, as the probe does (tls.alerts names it). */
export function noteSessionAlert(facts: ProbeFacts, error: unknown): void {
  noteAlert(facts.handshake, error, 'ws.session')
}
