/**
 * `watch` against hostile or broken Consoles (issue 20, "bounded and safe"): each one is a real
 * server on loopback, and each gives failing events and metrics, never a crash (an uncaught
 * error would fail this file) nor unbounded memory (ws' maxPayload, WATCH_MAX_PAYLOAD_BYTES,
 * refuses a message from its length field; node's HTTP parser caps the upgrade's headers).
 */
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {WATCH_MAX_PAYLOAD_BYTES} from '../../src/limits.js'
import type {AnalysisReport} from '../../src/model/report.js'
import {startWatch, type WatchEvent} from '../../src/probe/watch/index.js'
import {CERTS} from '../probe/servers.js'
import {acceptFor, binaryFrameHeader, HOST, startRawConsole, startSilentListener, startWellBehavedConsole, switchingProtocols, waitFor, type Peer} from './consoles.js'

type SessionEnd = Extract<WatchEvent, {type: 'session-end'}>

interface Watching {
  events: WatchEvent[]
  metrics(): Promise<string>
  firstEnd(): Promise<SessionEnd>
  stop(): Promise<AnalysisReport>
}

const peers: Peer[] = []
const watches: Watching[] = []

afterEach(async () => {
  await Promise.all(watches.splice(0).map((w) => w.stop().catch(() => undefined)))
  await Promise.all(peers.splice(0).map((p) => p.close()))
})

async function watch(consolePort: number, metricsPort: number, options: {timeoutMs?: number; pingIntervalMs?: number} = {}): Promise<Watching> {
  const abort = new AbortController()
  const events: WatchEvent[] = []
  const running = await startWatch(
    {
      url: `wss://${HOST}:${consolePort}/`,
      servername: 'console.test',
      defenderCerts: join(CERTS, 'defender'),
      timeoutMs: options.timeoutMs ?? 3000,
      pingIntervalMs: options.pingIntervalMs ?? 500,
      probeIntervalMs: 60_000,
      maxBackoffMs: 1000,
      listen: `${HOST}:${metricsPort}`,
    },
    {signal: abort.signal, onEvent: (event) => events.push(event)},
  )
  let stopped: Promise<AnalysisReport> | undefined
  const watching: Watching = {
    events,
    metrics: async () => (await fetch(`http://${HOST}:${metricsPort}/metrics`)).text(),
    firstEnd: () => waitFor('the first session-end event', () => events.find((e): e is SessionEnd => e.type === 'session-end')),
    stop: () => {
      abort.abort()
      stopped ??= running.done
      return stopped
    },
  }
  watches.push(watching)
  return watching
}

/** The value of one series in a /metrics text, or undefined when absent. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('watch against hostile Consoles', () => {
  it('a Console that accepts TCP and never answers: the TLS phase times out, the attempt is refused, up stays 0', async () => {
    peers.push(await startSilentListener(28011))
    const w = await watch(28011, 28411, {timeoutMs: 1000})
    const end = await w.firstEnd()
    expect(end.session.established).toBe(false)
    expect(end.session.end.reason).toBe('refused')
    expect(end.error?.code).toBe('ETIMEDOUT')
    expect(end.session.failedChecks).toContain('tls.finished')
    const text = await w.metrics()
    expect(sample(text, 'defender_check_up')).toBe(0)
    expect(sample(text, 'defender_check_sessions_total{end_reason="refused"}')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'defender_check_connection_attempts_total{result="established"}')).toBe(0)
  })

  it('endless data in place of the 101 headers: the HTTP parser stops at its header cap, the attempt fails', async () => {
    let written = 0
    peers.push(
      await startRawConsole(28012, (socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n')
        const filler = `X-Filler: ${'a'.repeat(1000)}\r\n`
        const pump = () => {
          while (!socket.destroyed && socket.write(filler)) written += filler.length
        }
        socket.on('drain', pump)
        pump()
      }),
    )
    const w = await watch(28012, 28412)
    const end = await w.firstEnd()
    expect(end.session.established).toBe(false)
    expect(end.error?.code).toBe('HPE_HEADER_OVERFLOW')
    expect(end.session.failedChecks).toContain('ws.upgrade')
    expect(sample(await w.metrics(), 'defender_check_up')).toBe(0)
    expect(written).toBeGreaterThan(16 * 1024)
  })

  it('a frame larger than the cap: watch closes with 1009 before buffering it, the session ends as an error', async () => {
    const size = 8 * WATCH_MAX_PAYLOAD_BYTES
    peers.push(
      await startRawConsole(28013, (socket, key) => {
        socket.write(switchingProtocols(acceptFor(key)))
        socket.write(binaryFrameHeader(size))
        socket.write(Buffer.alloc(size, 0x61))
      }),
    )
    const w = await watch(28013, 28413)
    const end = await w.firstEnd()
    expect(end.session.established).toBe(true)
    expect(end.session.end).toMatchObject({reason: 'error', by: 'client', wsCloseCode: 1009})
    expect(end.error?.code).toBe('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
    const text = await w.metrics()
    // (up is not asserted: after an established session watch reconnects at once, and the next one is up.)
    expect(sample(text, 'defender_check_sessions_total{end_reason="error"}')).toBeGreaterThanOrEqual(1)
  })

  it('a 1 GB frame header with no body: refused from the length field (1009), nothing allocated for it', async () => {
    peers.push(
      await startRawConsole(28014, (socket, key) => {
        socket.write(switchingProtocols(acceptFor(key)))
        socket.write(binaryFrameHeader(2 ** 30))
      }),
    )
    const before = process.memoryUsage().rss
    const w = await watch(28014, 28414)
    const end = await w.firstEnd()
    expect(end.session.end).toMatchObject({reason: 'error', by: 'client', wsCloseCode: 1009})
    // Not a timing: a gigabyte buffered would be seen here (RSS grows by far less than 1 GB in this process).
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024)
  })

  it('a wrong Sec-WebSocket-Accept: the upgrade is refused (RFC 6455 §4.1), the attempt fails, the Console is named', async () => {
    peers.push(
      await startRawConsole(28015, (socket) => {
        socket.write(switchingProtocols(acceptFor('not the key the client sent')))
      }),
    )
    const w = await watch(28015, 28415)
    const end = await w.firstEnd()
    expect(end.session.established).toBe(false)
    expect(end.error?.message).toMatch(/Sec-WebSocket-Accept/)
    expect(end.session.failedChecks).toContain('ws.upgrade')
    expect(sample(await w.metrics(), 'defender_check_sessions_total{end_reason="refused"}')).toBeGreaterThanOrEqual(1)
  })

  it('a Console that stops answering pings: the session ends as ping-timeout', async () => {
    peers.push(await startWellBehavedConsole(28016, {answerPings: false}))
    const w = await watch(28016, 28416, {timeoutMs: 1000, pingIntervalMs: 300})
    const end = await w.firstEnd()
    expect(end.session.established).toBe(true)
    expect(end.session.end).toMatchObject({reason: 'ping-timeout', by: 'client'})
    expect(sample(await w.metrics(), 'defender_check_sessions_total{end_reason="ping-timeout"}')).toBeGreaterThanOrEqual(1)
  })
})

describe('watch against a well-behaved Console', () => {
  it('holds the session, measures the clock, and on stop closes it with 1000 and reports it', async () => {
    const console = await startWellBehavedConsole(28017)
    peers.push(console)
    const w = await watch(28017, 28417, {pingIntervalMs: 200})
    await waitFor('an established session', () => (w.events.some((e) => e.type === 'session-start') ? true : undefined))
    const text = await waitFor('two answered pings in the metrics', async () => {
      const t = await w.metrics()
      return (sample(t, 'defender_check_ping_rtt_seconds_count') ?? 0) >= 2 ? t : undefined
    })
    expect(sample(text, 'defender_check_up')).toBe(1)
    // Loopback and one clock: the skew is within the Date header's second and a round trip.
    expect(Math.abs(sample(text, 'defender_check_clock_skew_seconds')!)).toBeLessThanOrEqual(1.5)
    expect(text).toMatch(/defender_check_certificate_expiry_timestamp_seconds\{certificate="client",subject="O=defender-check test, CN=defender-test"\} \d+/)
    expect(text).toMatch(/defender_check_certificate_expiry_timestamp_seconds\{certificate="console",subject="O=defender-check test, CN=console.test"\} \d+/)
    // No secret in /metrics: neither the key's passphrase nor key material.
    const {readFileSync} = await import('node:fs')
    expect(text).not.toContain(readFileSync(join(CERTS, 'defender', 'service-parameter'), 'utf8'))
    expect(text).not.toMatch(/PRIVATE KEY/)

    const report = await w.stop()
    await waitFor('the Console to see the close', () => (console.closeCodes.length > 0 ? true : undefined))
    expect(console.closeCodes).toEqual([1000])
    const defender = report.defenders!.defenders[0]!
    expect(defender.connections).toBe(1)
    expect(defender.sessions[0]!.end).toMatchObject({reason: 'ws-close', by: 'client', wsCloseCode: 1000})
    expect(defender.identity.certificateSubject).toBe('O=defender-check test, CN=defender-test')
    expect(defender.checks.map((c) => c.id)).toEqual(['channel.stability'])
  })
})
