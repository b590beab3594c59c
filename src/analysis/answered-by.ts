/**
 * Who answered the handshake, and who reset: from what the capture shows of one connection
 * (stream/path-signals.ts), say when its SYN-ACK or a RST came from something other than the
 * endpoint that carried the session. Every finding is an inference, each with the numbers it
 * rests on:
 *
 * - IP TTL (IPv6 hop limit, RFC 8200 §3): a sender starts it at 64 (Linux, macOS), 128
 *   (Windows) or 255 (network gear), every router decrements it (RFC 791 §3.2). Packets of one
 *   sender over one path arrive with the same value; a packet that arrives with another one was
 *   sent by another device or crossed another number of routers. A SYN-ACK is said to come from
 *   another device only when it came from nearer than the server's data (a device in front).
 * - Timing: on a capture taken on the client's host, the SYN → SYN-ACK time is the round trip
 *   to whoever answered the handshake, and a request → response turn is at least the round trip
 *   to whoever answers the requests. A handshake answered in microseconds whose responses (all
 *   but the quickest, which may have crossed a request) take tens of milliseconds was answered
 *   by something closer than the Console. A server that takes tens of milliseconds to answer
 *   every request on a sub-millisecond path looks the same: hence inferred, and a warn.
 * - The TCP timestamps option (RFC 7323 §3.2): once the SYN-ACK carried it (or did not), every
 *   later segment of that TCP stack does (does not). Later packets that disagree come from
 *   another stack.
 *
 * Conservative on purpose: nothing is said about a capture that does not show the contrast (a
 * capture not taken on the client's host gets no timing finding; a side needs at least
 * MIN_SIDE_PACKETS packets before a TTL is said to differ from it).
 */
import {countOf} from '../lists.js'
import type {AnsweredBy, AnsweredByFinding} from '../model/facts.js'
import {elapsedMs, formatMs} from '../model/format.js'
import type {PathSignals, RstTtl} from '../stream/path-signals.js'
import type {TrackedConnection} from '../stream/types.js'

/** Initial TTLs senders use (RFC 1700's 64, Windows' 128, routers' 255; 32 for old stacks). */
const INITIAL_TTLS = [32, 64, 128, 255] as const
/** Packets of a side (SYN, SYN-ACK and RSTs aside) before a TTL is said to differ from that side's. */
export const MIN_SIDE_PACKETS = 2
/** A SYN-ACK this soon after the SYN came from this host or its network segment. */
export const LOCAL_ANSWER_MS = 1
/** Request → response turns needed before the handshake's RTT is compared with them. */
export const MIN_TURNS = 3
/** The shortest turn must be this many times the SYN → SYN-ACK time... */
export const TURN_CONTRAST_FACTOR = 10
/** ...and this many ms longer (on loopback a 30 µs handshake against 1 ms of TLS work is no contrast). */
export const TURN_CONTRAST_MIN_MS = 10

/** The initial TTL a packet arriving with `ttl` most likely started with. */
function initialTtl(ttl: number): number {
  for (const initial of INITIAL_TTLS) if (ttl <= initial) return initial
  return 255
}

/** Routers between the sender and the capture point, if the sender started at the usual initial TTL. */
function routersBetween(ttl: number): number {
  return initialTtl(ttl) - ttl
}

function routers(n: number): string {
  return n === 1 ? '1 router' : `${n} routers`
}

function ttlRange(min: number, max: number): string {
  return min === max ? `${min}` : `${min}-${max}`
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1'
}

/** What the capture shows about who answered and who reset, or undefined when it shows nothing unusual. */
export function answeredByOf(conn: TrackedConnection): AnsweredBy | undefined {
  const signals = conn.path
  if (signals === undefined) return undefined
  const findings: AnsweredByFinding[] = []
  const early = earlyAnswer(conn, signals)
  if (early !== undefined) findings.push(early)
  const elsewhere = handshakeElsewhere(conn, signals)
  if (elsewhere !== undefined) findings.push(elsewhere)
  const reset = injectedReset(conn, signals)
  if (reset !== undefined) findings.push(reset)
  return findings.length > 0 ? {findings} : undefined
}

/**
 * The capture was taken on the client's host: every client packet (SYN and RSTs aside) has one
 * TTL and it is an initial one, so none crossed a router before the capture point.
 */
function capturedOnClientHost(signals: PathSignals): boolean {
  return (
    signals.clientTtlPackets >= MIN_SIDE_PACKETS &&
    signals.clientTtlMin === signals.clientTtlMax &&
    (INITIAL_TTLS as readonly number[]).includes(signals.clientTtlMax)
  )
}

/** local-proxy or early-handshake: the SYN-ACK came back much sooner than any response did. */
function earlyAnswer(conn: TrackedConnection, signals: PathSignals): AnsweredByFinding | undefined {
  const {syn, synAck} = conn.tcp
  if (syn === undefined || synAck === undefined || signals.synAckTtl < 0 || signals.turns < MIN_TURNS) return undefined
  if (!capturedOnClientHost(signals)) return undefined
  // On loopback (or to the host's own address) the kernel answers the SYN and nothing is on the
  // way: a slow response is the server's own work (openssl s_server, a test peer), not distance.
  if (isLoopback(conn.server.ip) || conn.server.ip === conn.client.ip) return undefined
  // The SYN the SYN-ACK answered: the last one sent before it.
  let answered = syn.ts
  for (const retry of conn.tcp.synRetransmissions) if (retry.ts <= synAck.ts) answered = retry.ts
  const handshakeMs = elapsedMs(answered, synAck.ts)
  // The second quickest response: one that crossed a request (both sides' close_notify at the
  // end of a session) is not an answer to it.
  const turnMs = Math.round(signals.turnSecondMs * 1000) / 1000
  if (turnMs < handshakeMs * TURN_CONTRAST_FACTOR || turnMs - handshakeMs < TURN_CONTRAST_MIN_MS) return undefined
  const hops = routersBetween(signals.synAckTtl)
  const [requestFrame, responseFrame] = signals.turnSecondFrames
  const values: Record<string, number | string | boolean> = {
    synToSynAckMs: handshakeMs,
    secondQuickestTurnMs: turnMs,
    quickestTurnMs: Math.round(signals.turnMinMs * 1000) / 1000,
    turns: signals.turns,
    synAckTtl: signals.synAckTtl,
    synAckRouters: hops,
    clientTtl: signals.clientTtlMax,
  }
  if (signals.serverTtlPackets > 0) values.serverTtl = ttlRange(signals.serverTtlMin, signals.serverTtlMax)
  const frames = [syn.frame, synAck.frame, requestFrame, responseFrame]
  const contrast =
    `the SYN-ACK (frame ${synAck.frame}) came ${formatMs(handshakeMs)} after the SYN, but all but one of ${signals.turns} responses ` +
    `took at least ${formatMs(turnMs)} (frame ${requestFrame} -> ${responseFrame})`
  const local = hops === 0 && handshakeMs <= LOCAL_ANSWER_MS
  if (local) {
    return {
      kind: 'local-proxy',
      reason: `${contrast}; the SYN-ACK "from" ${conn.server.ip} crossed no router (TTL ${signals.synAckTtl}): it was answered on this host, not by the Console`,
      device: `a local proxy such as Prisma Access Agent's answered on this host (or on its network segment) and relays to ${conn.server.ip}: check its policy for the Defender's traffic to port ${conn.server.port}`,
      frames,
      values,
    }
  }
  return {
    kind: 'early-handshake',
    reason: `${contrast}; the SYN-ACK crossed ${routers(hops)} (TTL ${signals.synAckTtl}): something nearer than the Console completed the handshake`,
    device: `a load balancer or proxy ${routers(hops)} from the capture point completed the handshake before the Console answered; if the session fails, look at its logs and idle timeout`,
    frames,
    values,
  }
}

/**
 * handshake-elsewhere: the SYN-ACK's TTL differs from that of every server packet carrying
 * payload (the session's endpoint's own: a SYN proxy's window update carries none), or its
 * timestamps option disagrees with the server's later packets.
 */
function handshakeElsewhere(conn: TrackedConnection, signals: PathSignals): AnsweredByFinding | undefined {
  const synAck = conn.tcp.synAck
  if (synAck === undefined || signals.synAckTtl < 0) return undefined
  // Only a SYN-ACK from nearer than the server's data: a device answering for the server sits in
  // front of it. One from farther away is a route change (ECMP, anycast), not a middlebox (two
  // Microsoft edge connections of the ja4 corpus show SYN-ACKs one and two routers farther).
  const ttlDiffers = signals.serverDataPackets >= MIN_SIDE_PACKETS && signals.synAckTtl > signals.serverDataTtlMax
  // RFC 7323 §3.2: with timestamps negotiated every later segment carries them; without, none does.
  const laterTs = synAck.timestamps === true ? signals.serverLaterWithoutTimestamps : signals.serverLaterWithTimestamps
  const laterOther = synAck.timestamps === true ? signals.serverLaterWithTimestamps : signals.serverLaterWithoutTimestamps
  const timestampsDiffer = laterTs >= MIN_SIDE_PACKETS && laterOther === 0
  if (!ttlDiffers && !timestampsDiffer) return undefined
  const dataTtl = ttlRange(signals.serverDataTtlMin, signals.serverDataTtlMax)
  const why: string[] = []
  if (ttlDiffers) {
    why.push(
      `its TTL ${signals.synAckTtl} (${routers(routersBetween(signals.synAckTtl))} away) is not the ${dataTtl} of the server's ${signals.serverDataPackets} packets ` +
        `carrying data (${routers(routersBetween(signals.serverDataTtlMax))} away)`,
    )
  }
  if (timestampsDiffer) why.push(`it ${synAck.timestamps === true ? 'carried' : 'lacked'} the TCP timestamps option and none of the server's ${laterTs} later packets ${synAck.timestamps === true ? 'do' : 'lack it'} (RFC 7323 section 3.2: one TCP stack does both or neither)`)
  const values: Record<string, number | string | boolean> = {synAckTtl: signals.synAckTtl, synAckTimestamps: synAck.timestamps === true}
  if (signals.serverDataPackets > 0) values.serverDataTtl = dataTtl
  if (ttlDiffers) values.handshakeDeviceRouters = routersBetween(signals.synAckTtl)
  return {
    kind: 'handshake-elsewhere',
    reason: `the SYN-ACK (frame ${synAck.frame}) came from another device than the server's later packets: ${why.join('; ')}`,
    device: `a SYN proxy, load balancer or firewall${ttlDiffers ? ` ${routers(routersBetween(signals.synAckTtl))} from the capture point` : ''} completed the handshake and handed the connection on to the Console`,
    frames: [synAck.frame],
    values,
  }
}

/** injected-reset: a RST whose TTL differs from every other packet its side sent. */
function injectedReset(conn: TrackedConnection, signals: PathSignals): AnsweredByFinding | undefined {
  const odd: RstTtl[] = []
  for (const rst of signals.rsts) {
    const [min, max, packets] =
      rst.from === 'client' ? [signals.clientTtlMin, signals.clientTtlMax, signals.clientTtlPackets] : [signals.serverTtlMin, signals.serverTtlMax, signals.serverTtlPackets]
    if (packets >= MIN_SIDE_PACKETS && (rst.ttl < min || rst.ttl > max)) odd.push(rst)
  }
  if (odd.length === 0) return undefined
  const first = odd[0]!
  const [min, max] = first.from === 'client' ? [signals.clientTtlMin, signals.clientTtlMax] : [signals.serverTtlMin, signals.serverTtlMax]
  const deviceRouters = routersBetween(first.ttl)
  const sideRouters = routersBetween(max)
  const more = odd.length > 1 ? ` (and ${odd.length - 1} more such RST${odd.length > 2 ? 's' : ''})` : ''
  const listed = countOf(signals, 'rsts', signals.rsts)
  const where = capturedOnClientHost(signals) ? 'the client (this capture was taken on its host)' : 'the capture point'
  return {
    kind: 'injected-reset',
    reason:
      `the RST "from the ${first.from}" in frame ${first.frame} arrived with TTL ${first.ttl} where every other packet of the ${first.from} had ${ttlRange(min, max)}${more}: ` +
      `it was sent by a device ${routers(deviceRouters)} from the capture point, not by the ${first.from} (${routers(sideRouters)} away)`,
    device: `a RST injected by a device on the path, ${routers(deviceRouters)} from ${where}: a firewall or IPS (or a load balancer's idle timeout) reset the session; check its logs for the Defender's connection to port ${conn.server.port}`,
    frames: odd.map((rst) => rst.frame),
    values: {rstTtl: first.ttl, sideTtl: ttlRange(min, max), rstFrom: first.from, deviceRouters, sideRouters, injectedRsts: odd.length, rstsSeen: listed},
  }
}
