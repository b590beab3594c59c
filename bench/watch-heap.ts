/**
 * watch's live heap across thousands of sessions, measured after full garbage collections (the
 * soak's RSS and heap-used samples include garbage). In process, against a Console that cuts every
 * session 50 ms after its 101. Run by hand: `node --expose-gc --import tsx bench/watch-heap.ts [sessions=3000]`.
 */
import {readFileSync} from 'node:fs'
import {createServer} from 'node:https'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {WebSocketServer} from 'ws'
import {startWatch} from '../src/probe/watch/index.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CERTS = join(ROOT, 'fixtures', 'certs')
const total = Number(process.argv[2] ?? 3000)
const gc = (globalThis as {gc?: () => void}).gc
if (!gc) throw new Error('run with node --expose-gc')

const cert = (name: string) => readFileSync(join(CERTS, name))
const https = createServer({key: cert('console-server.key'), cert: cert('console-server.pem'), ca: cert('defender-ca.pem'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3'})
const wss = new WebSocketServer({noServer: true})
https.on('tlsClientError', () => undefined)
https.on('upgrade', (req, socket, head) => {
  socket.on('error', () => undefined)
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => undefined)
    setTimeout(() => ws.terminate(), 50)
  })
})
await new Promise<void>((ok) => https.listen(28061, '127.0.8.6', () => ok()))

let ended = 0
const marks = new Map<number, number>()
const abort = new AbortController()
const running = await startWatch(
  {url: 'wss://127.0.8.6:28061/', servername: 'console.test', defenderCerts: join(CERTS, 'defender'), timeoutMs: 3000, pingIntervalMs: 20, probeIntervalMs: 5000, maxBackoffMs: 1000, listen: '127.0.8.6:28062'},
  {
    signal: abort.signal,
    onEvent: (event) => {
      if (event.type !== 'session-end') return
      ended++
      if (ended % 500 === 0) {
        gc()
        marks.set(ended, process.memoryUsage().heapUsed)
        process.stderr.write(`${ended} sessions: heap used after GC ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(2)} MiB, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB\n`)
      }
      if (ended >= total) abort.abort()
    },
  },
)
const report = await running.done
https.close()
for (const c of wss.clients) c.terminate()
process.stdout.write(`${JSON.stringify({sessions: report.defenders!.defenders[0]!.connections, kept: report.defenders!.defenders[0]!.sessions.length, heapAfterGcMiB: Object.fromEntries([...marks].map(([k, v]) => [k, +(v / 2 ** 20).toFixed(2)]))})}\n`)
process.exit(0)
