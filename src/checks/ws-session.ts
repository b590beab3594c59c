/**
 * ws.session: the WebSocket session after the 101 stayed healthy — every ping answered by a pong
 * (RFC 6455 §5.5.2-3), no protocol violation (§5), and, if it ended, a closing handshake with a
 * normal code (§7.1.2, §7.4.1) rather than a reset or a TCP close without a close frame (what an
 * endpoint reports as 1006, §7.1.5). Observed from the frames (decrypted or cleartext); without
 * keys on TLS 1.3, inferred from the flow of encrypted records after the upgrade.
 */
import {appendAll} from '../lists.js'
import {isoTime} from '../time.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {HttpUpgradeFacts} from '../protocols/http/types.js'
import type {WebSocketClose, WebSocketFacts, WebSocketPing} from '../protocols/websocket/types.js'
import type {FrameRef, TcpFlagEvent} from '../stream/types.js'
import {count, elapsedMs, formatMs} from '../model/format.js'
import {isTls13, skip, tlsFactsOf} from './tls-common.js'
import type {CheckResult, CheckStatus} from '../model/checks.js'
import {tlsBlocker, upgradeFlowOf, webFactsOf} from './ws-common.js'

const ID = 'ws.session'

/**
 * A ping the capture ended within this many seconds of, with the connection still open, is still
 * awaiting its pong rather than unanswered: ws and gorilla/websocket wait far longer (their
 * heartbeat examples use 30 s and 60 s), so a shorter silence proves nothing.
 */
const PONG_GRACE_S = 5

/** Close codes (RFC 6455 §7.4.1, IANA WebSocket Close Code Number Registry). */
const CLOSE_CODE_NAMES: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status received',
  1007: 'invalid frame payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
}
/** A session ended by either is not a fault: 1000/1001, or a close frame without a code (1005). */
const CLEAN_CODES = new Set([1000, 1001])
/** The server is restarting or overloaded: the Defender reconnects; worth a warning, not a failure. */
const RETRY_CODES = new Set([1012, 1013])

interface Finding {
  status: CheckStatus
  text: string
  frames: number[]
  hint?: string
}

export function checkWsSession(facts: ConnectionFacts): CheckResult {
  const tls = tlsFactsOf(facts)
  const blocked = tlsBlocker(facts)
  if (blocked) return skip(ID, blocked)
  const {http, ws} = webFactsOf(facts)
  if (ws) return observed(facts, http, ws)
  if (http) return skip(ID, 'no WebSocket session: the upgrade was not accepted (see ws.upgrade)')
  if (tls && !tls.notTls && isTls13(tls) && tls.decryption?.keys !== 'found') return inferred(facts)
  return skip(ID, 'no WebSocket session was seen (see ws.upgrade)')
}

function observed(facts: ConnectionFacts, http: HttpUpgradeFacts | undefined, ws: WebSocketFacts): CheckResult {
  const how = facts.tls && !facts.tls.notTls ? ' [decrypted]' : ''
  const opened = http?.response ?? {frame: facts.tcp.firstFrame, ts: facts.tcp.startTs}
  const findings: Finding[] = []
  appendAll(findings, protocolFindings(ws))
  const pings = pingFindings(facts, ws)
  appendAll(findings, pings.findings)
  appendAll(findings, closeFindings(facts, ws, opened))
  const lost = ws.c2s.lostSync ?? ws.s2c.lostSync
  if (lost) findings.push({status: 'warn', text: `part of the session was not captured (frames not followed after frame ${lost.frame})`, frames: [lost.frame], hint: 'capture without drops (tcpdump -B) and with -s 0'})
  const values = {
    frames: {c2s: ws.c2s.frames, s2c: ws.s2c.frames},
    messages: {c2s: ws.c2s.messages, s2c: ws.s2c.messages},
    pings: ws.pingCount,
    pingsAnswered: pings.answered.length,
    pingsUnanswered: pings.unanswered.length,
    rttMs: pings.answered.map((p) => p.pong!.rttMs),
    close: {client: closeValue(ws.close.client), server: closeValue(ws.close.server)},
    cleanClose: ws.cleanClose,
    issues: ws.issueCounts,
  }
  const frames = [...new Set([opened.frame, ...findings.flatMap((f) => f.frames)])].sort((a, b) => a - b)
  const worst = findings.find((f) => f.status === 'fail') ?? findings.find((f) => f.status === 'warn')
  if (worst) {
    const ordered = [...findings.filter((f) => f.status === 'fail'), ...findings.filter((f) => f.status === 'warn')]
    return {id: ID, status: worst.status, confidence: 'observed', summary: ordered.map((f) => f.text).join('; ') + how, evidence: {frames, values}, hint: worst.hint}
  }
  const traffic = `${count(ws.c2s.frames + ws.s2c.frames, 'frame')} (client ${ws.c2s.frames}, server ${ws.s2c.frames})`
  const pingText = pings.answered.length > 0 ? `, ${count(pings.answered.length, 'ping')} answered (RTT ${rttRange(pings.answered)})` : ws.pingCount === 0 ? ', no pings' : ''
  const awaiting = pings.awaiting.length > 0 ? `, ${count(pings.awaiting.length, 'ping')} sent just before the capture ended` : ''
  const ending = cleanEnding(facts, ws)
  return {id: ID, status: 'pass', confidence: 'observed', summary: `${traffic}${pingText}${awaiting}; ${ending}${how}`, evidence: {frames, values}}
}

function protocolFindings(ws: WebSocketFacts): Finding[] {
  const errors = ws.issues.filter((i) => i.severity === 'error')
  if (errors.length === 0) return []
  const total = Object.entries(ws.issueCounts).reduce((n, [code, k]) => (errors.some((e) => e.code === code) ? n + k : n), 0)
  const first = errors[0]
  return [{
    status: 'fail',
    text: `WebSocket protocol violation: ${first.message}${first.frame === undefined ? '' : ` (frame ${first.frame})`}${total > 1 ? `, ${total - 1} more` : ''}`,
    frames: first.frame === undefined ? [] : [first.frame],
    hint: 'a peer (or something in between) breaks RFC 6455 framing: compare the Defender and Console versions, look for a proxy rewriting the stream',
  }]
}

function pingFindings(facts: ConnectionFacts, ws: WebSocketFacts): {findings: Finding[]; answered: WebSocketPing[]; unanswered: WebSocketPing[]; awaiting: WebSocketPing[]} {
  const answered = ws.pings.filter((p) => p.pong)
  const unanswered: WebSocketPing[] = []
  const awaiting: WebSocketPing[] = []
  const endedAt = firstEnding(facts, ws)
  const captureEnd = facts.captureEndTs ?? facts.tcp.endTs
  for (const ping of ws.pings) {
    if (ping.pong) continue
    // Unanswered once the session ended after it, or the capture went on long enough to expect the pong.
    if ((endedAt && endedAt.frame > ping.frame) || captureEnd - ping.ts >= PONG_GRACE_S) unanswered.push(ping)
    else awaiting.push(ping)
  }
  if (unanswered.length === 0) return {findings: [], answered, unanswered, awaiting}
  const first = unanswered[0]
  const bySide = (side: 'client' | 'server') => unanswered.filter((p) => p.from === side).length
  const senders = [bySide('client') > 0 ? `${bySide('client')} from the client` : '', bySide('server') > 0 ? `${bySide('server')} from the server` : ''].filter(Boolean).join(', ')
  const other = first.from === 'client' ? 'server' : 'client'
  const since = endedAt && endedAt.frame > first.frame ? `, ${formatMs(elapsedMs(first.ts, endedAt.ts))} before the session ended` : ''
  return {
    findings: [{
      status: 'fail',
      text: `${count(unanswered.length, 'ping')} unanswered (${senders}; the first in frame ${first.frame}${since})${answered.length > 0 ? `; ${answered.length} answered` : ''}`,
      frames: unanswered.slice(0, 10).map((p) => p.frame),
      hint: `the ${other} stopped answering pings (RFC 6455 §5.5.2 requires a pong): it is hung or overloaded, or something in between swallows control frames`,
    }],
    answered,
    unanswered,
    awaiting,
  }
}

/** The first close frame, FIN or RST after the upgrade: where the session stopped. */
function firstEnding(facts: ConnectionFacts, ws: WebSocketFacts): FrameRef | undefined {
  const closes = [ws.close.client, ws.close.server].filter((c): c is WebSocketClose => c !== undefined)
  const candidates: FrameRef[] = [...closes, ...facts.tcp.fin, ...facts.tcp.rst]
  candidates.sort((a, b) => a.frame - b.frame)
  return candidates[0]
}

function closeFindings(facts: ConnectionFacts, ws: WebSocketFacts, opened: FrameRef): Finding[] {
  const firstClose = ws.closedBy ? ws.close[ws.closedBy] : undefined
  const rst = facts.tcp.rst.find((r) => r.frame > opened.frame)
  if (!firstClose) {
    const fin = facts.tcp.fin.find((f) => f.frame > opened.frame)
    const abrupt = [rst, fin].filter((e): e is TcpFlagEvent => e !== undefined).sort((a, b) => a.frame - b.frame)[0]
    if (!abrupt) return []
    const what = abrupt === rst ? 'reset the connection (RST' : 'closed the TCP connection (FIN'
    return [{
      status: 'fail',
      text: `the ${abrupt.from} ${what}, frame ${abrupt.frame}) without a WebSocket close frame: abnormal closure (1006)`,
      frames: [abrupt.frame],
      hint: `the ${abrupt.from} dropped the session without the closing handshake: look at its logs around ${isoTime(abrupt.ts)}`,
    }]
  }
  const findings: Finding[] = []
  const code = firstClose.code
  if (code !== undefined && !CLEAN_CODES.has(code)) {
    findings.push({
      status: RETRY_CODES.has(code) ? 'warn' : 'fail',
      text: `the ${firstClose.from} closed the session with ${describeClose(firstClose)} (frame ${firstClose.frame})`,
      frames: [firstClose.frame],
      hint: closeHint(firstClose),
    })
  }
  // A reset before the other side answered the close cut the closing handshake short (RFC 6455 §7.1.1 wants the TCP close after it).
  if (rst && !ws.cleanClose) {
    findings.push({status: 'fail', text: `the ${rst.from} reset the connection (RST, frame ${rst.frame}) during the closing handshake`, frames: [rst.frame], hint: `the ${rst.from} did not finish the WebSocket closing handshake`})
  } else if (!ws.cleanClose) {
    const other = firstClose.from === 'client' ? 'server' : 'client'
    const fin = facts.tcp.fin.find((f) => f.frame > firstClose.frame)
    if (fin) findings.push({status: 'warn', text: `the ${other} never answered the ${firstClose.from}'s close frame (frame ${firstClose.frame}) before the connection ended (FIN, frame ${fin.frame})`, frames: [firstClose.frame, fin.frame], hint: 'the closing handshake is incomplete (RFC 6455 §7.1.2)'})
  }
  return findings
}

function cleanEnding(facts: ConnectionFacts, ws: WebSocketFacts): string {
  const firstClose = ws.closedBy ? ws.close[ws.closedBy] : undefined
  if (firstClose) {
    const other = ws.closedBy === 'client' ? ws.close.server : ws.close.client
    const answer = ws.cleanClose && other ? `, answered by the ${other.from} (frame ${other.frame})` : ''
    return `closed by the ${firstClose.from} with ${describeClose(firstClose)} (frame ${firstClose.frame})${answer}`
  }
  const seconds = Math.max(0, (facts.captureEndTs ?? facts.tcp.endTs) - facts.tcp.startTs)
  return `the session was still open when the capture ended (${seconds.toFixed(1)} s after the connection started)`
}

function describeClose(close: WebSocketClose): string {
  if (close.code === undefined) return 'a close frame without a status code'
  const name = CLOSE_CODE_NAMES[close.code]
  return `${close.code}${name ? ` ${name}` : ''}${close.reason ? ` "${close.reason}"` : ''}`
}

function closeHint(close: WebSocketClose): string {
  switch (close.code) {
    case 1008:
      return `the ${close.from} closed for a policy violation: check the Console's logs for why this Defender was refused`
    case 1011:
      return `the ${close.from} hit an internal error: check its logs at ${isoTime(close.ts)}`
    case 1012:
    case 1013:
      return 'the Console is restarting or overloaded; the Defender reconnects by itself'
    default:
      return `the ${close.from} ended the session abnormally: check its logs`
  }
}

function closeValue(close: WebSocketClose | undefined): {frame: number; code?: number; reason?: string} | undefined {
  return close && {frame: close.frame, code: close.code, reason: close.reason}
}

function rttRange(pings: WebSocketPing[]): string {
  let min = Infinity
  let max = 0
  for (const ping of pings) {
    min = Math.min(min, ping.pong!.rttMs)
    max = Math.max(max, ping.pong!.rttMs)
  }
  return min === max ? formatMs(min) : `${formatMs(min)}-${formatMs(max)}`
}

/** TLS 1.3 without keys: the flow of encrypted records after the upgrade (analysis/derive.ts). */
function inferred(facts: ConnectionFacts): CheckResult {
  const flow = upgradeFlowOf(facts)
  if (!flow || flow.answer.length === 0 || flow.clientAfter.length === 0 || flow.serverAfter.length === 0) {
    return skip(ID, 'no WebSocket session was seen (see ws.upgrade)')
  }
  const answer = flow.answer[flow.answer.length - 1]
  const values = {clientRecords: flow.clientAfter.length, serverRecords: flow.serverAfter.length}
  const exchanged = `after the upgrade (frame ${answer.frame}) both sides exchanged encrypted records (client ${flow.clientAfter.length}, server ${flow.serverAfter.length})`
  const rst = facts.tcp.rst.find((r) => r.frame > answer.frame)
  if (rst) {
    return {
      id: ID,
      status: 'fail',
      confidence: 'inferred',
      summary: `inferred: ${exchanged}, then the ${rst.from} reset the connection (RST, frame ${rst.frame}) ${formatMs(elapsedMs(answer.ts, rst.ts))} after the upgrade: the session ended abruptly`,
      evidence: {frames: [answer.frame, rst.frame], values},
      hint: 'give --keylog to read whether a close frame or unanswered pings came before the reset',
    }
  }
  const fins = facts.tcp.fin.filter((f) => f.frame > answer.frame)
  const finText = fins.length === 0 ? 'the connection was still open when the capture ended' : `the connection ended with a FIN from the ${[...new Set(fins.map((f) => f.from))].join(' and the ')} (frame ${fins[0].frame})`
  return {
    id: ID,
    status: 'pass',
    confidence: 'inferred',
    summary: `inferred: ${exchanged}; no reset, ${finText} (pings and close codes are encrypted: give --keylog to read them)`,
    evidence: {frames: [answer.frame, ...fins.map((f) => f.frame)], values},
  }
}
