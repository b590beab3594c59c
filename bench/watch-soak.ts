/**
 * Soak of `defender-check watch` against a flapping Console (issue 20: "memory stays flat over
 * hours"). Run by hand: `node --import tsx bench/watch-soak.ts [minutes=10]`.
 *
 * The Console (node:https + ws, mTLS, the fixture PKI, on 127.0.8.5:28051) cuts every session
 * after a random 0.3-2 s (half with a Close 1001, half by destroying the socket), and every 60 s
 * goes away for 5 s (the reconnects back off). watch runs as the CLI (bin/run.js, built, or
 * bin/dev.js) with --listen; every 10 s its /metrics is scraped for RSS, heap and the session
 * counters. At the end: the RSS curve, and watch's counts against the sessions the Console served.
 */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import type {Socket} from 'node:net'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {WebSocketServer} from 'ws'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CERTS = join(ROOT, 'fixtures', 'certs')
const HOST = '127.0.8.5'
const CONSOLE_PORT = 28051
const METRICS = `${HOST}:28052`
const minutes = Number(process.argv[2] ?? 10)

let served = 0
let server: Server | undefined
const sockets = new Set<Socket>()

async function startConsole(): Promise<void> {
  const cert = (name: string) => readFileSync(join(CERTS, name))
  const https = createServer({key: cert('console-server.key'), cert: cert('console-server.pem'), ca: cert('defender-ca.pem'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3'})
  const wss = new WebSocketServer({noServer: true})
  https.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('error', () => undefined)
    s.once('close', () => sockets.delete(s))
  })
  https.on('tlsClientError', () => undefined)
  https.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined)
    wss.handleUpgrade(req, socket, head, (ws) => {
      served++
      ws.on('error', () => undefined)
      const n = served
      setTimeout(() => (n % 2 === 0 ? ws.close(1001, 'going away') : ws.terminate()), 300 + Math.random() * 1700)
    })
  })
  await new Promise<void>((ok) => https.listen(CONSOLE_PORT, HOST, () => ok()))
  server = https
}

async function stopConsole(): Promise<void> {
  for (const s of sockets) s.destroy()
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()))
  server = undefined
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? NaN : Number(line.slice(series.length + 1))
}

const built = existsSync(join(ROOT, 'dist', 'commands', 'watch.js'))
await startConsole()
const watch = spawn(process.execPath, [join(ROOT, 'bin', built ? 'run.js' : 'dev.js'), 'watch', `wss://${HOST}:${CONSOLE_PORT}/`, '--servername', 'console.test', '--defender-certs', join(CERTS, 'defender'), '--ping-interval', '1s', '--interval', '30s', '--max-backoff', '4s', '--timeout', '3s', '--listen', METRICS, '-f', 'ndjson'], {cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit']})
let events = 0
let tail = ''
watch.stdout.on('data', (chunk: Buffer) => {
  const text = tail + chunk.toString()
  const lines = text.split('\n')
  tail = lines.pop()!
  events += lines.length
  // Only the last lines are kept (the defender and summary lines come last).
  if (lines.length > 0) lastLines = [...lastLines, ...lines].slice(-3)
})
let lastLines: string[] = []

const start = Date.now()
const rows: string[] = []
let nextOutage = 60_000
while (Date.now() - start < minutes * 60_000) {
  await new Promise((ok) => setTimeout(ok, 10_000))
  const elapsed = Date.now() - start
  if (elapsed >= nextOutage) {
    await stopConsole()
    await new Promise((ok) => setTimeout(ok, 5000))
    await startConsole()
    nextOutage += 60_000
  }
  const text = await fetch(`http://${METRICS}/metrics`).then((r) => r.text()).catch(() => '')
  const established = sample(text, 'defender_check_connection_attempts_total{result="established"}')
  const failed = sample(text, 'defender_check_connection_attempts_total{result="failed"}')
  rows.push(`| ${(elapsed / 1000).toFixed(0)} | ${(sample(text, 'process_resident_memory_bytes') / 2 ** 20).toFixed(1)} | ${(sample(text, 'nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(1)} | ${established} | ${failed} | ${served} |`)
  process.stderr.write(`${rows.at(-1)}\n`)
}
watch.kill('SIGINT')
await new Promise((ok) => watch.once('exit', ok))
await stopConsole()
const defender = JSON.parse(lastLines.find((l) => l.includes('"type":"defender"')) ?? '{}') as {connections?: number; endings?: unknown; sessions?: unknown[]; truncated?: unknown}
process.stdout.write(`| s | RSS MiB | heap used MiB | established | failed | Console served |\n|---:|---:|---:|---:|---:|---:|\n${rows.join('\n')}\n\n`)
process.stdout.write(`Console served ${served} sessions; watch: ${events} NDJSON lines, defender.connections ${defender.connections}, sessions kept ${defender.sessions?.length}, truncated ${JSON.stringify(defender.truncated)}, endings ${JSON.stringify(defender.endings)}\n`)
