/**
 * Real peers for the probe tests: a Console-like server (node:https + ws, TLS 1.3, the fixture
 * PKI of fixtures/certs/README.md, optionally requiring the Defender's client certificate) and an
 * HTTP CONNECT proxy (node:http), both on 127.0.0.1.
 */
import {readFileSync} from 'node:fs'
import {createServer as createHttpServer, type Server as HttpServer} from 'node:http'
import {createServer as createHttpsServer, type Server as HttpsServer} from 'node:https'
import {connect, type AddressInfo, type Socket} from 'node:net'
import {join} from 'node:path'
import {WebSocketServer} from 'ws'
import {FIXTURES} from '../helpers/paths.js'

export const CERTS = join(FIXTURES, 'certs')
export const cert = (name: string): Buffer => readFileSync(join(CERTS, name))

export interface ConsoleOptions {
  port?: number
  /** Loopback address to listen on (default 127.0.0.1); tests pick their own 127.0.N.x to avoid clashes. */
  host?: string
  /** Require a client certificate issued by the Defender CA (the Console's mTLS). */
  requireClientCert?: boolean
  /** Answer the upgrade with this status instead of 101. */
  refuseUpgrade?: number
  /** Called with the headers of every upgrade request (to see what a client sent). */
  onUpgrade?: (headers: Record<string, string | string[] | undefined>) => void
  /** Server certificate/key file names under fixtures/certs (default console-server). */
  serverCert?: string
  /**
   * The CA(s) whose client certificates it accepts and whose names its CertificateRequest lists
   * (node:tls puts the `ca` option's subjects in certificate_authorities): PEM file names under
   * fixtures/certs or absolute paths (default defender-ca.pem).
   */
  clientCas?: string[]
  /** The Date header its 101 carries, from its own clock (`ws` writes none by itself); undefined: none. */
  date?: () => string
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
}

export interface RunningServer {
  port: number
  close(): Promise<void>
}

export async function startConsole(options: ConsoleOptions = {}): Promise<RunningServer> {
  const name = options.serverCert ?? 'console-server'
  const server: HttpsServer = createHttpsServer({
    key: cert(`${name}.key`),
    cert: cert(`${name}.pem`),
    ca: (options.clientCas ?? ['defender-ca.pem']).map((file) => (file.startsWith('/') ? readFileSync(file) : cert(file))),
    minVersion: options.maxVersion === 'TLSv1.2' ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: options.maxVersion ?? 'TLSv1.3',
    requestCert: options.requireClientCert === true,
    rejectUnauthorized: options.requireClientCert === true,
  })
  const wss = new WebSocketServer({noServer: true})
  wss.on('connection', (ws) => ws.on('error', () => undefined))
  const date = options.date
  if (date) wss.on('headers', (headers: string[]) => headers.push(`Date: ${date()}`))
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined)
    options.onUpgrade?.(req.headers)
    if (options.refuseUpgrade !== undefined) {
      socket.end(`HTTP/1.1 ${options.refuseUpgrade} Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  server.on('tlsClientError', () => undefined)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

export interface ProxyOptions {
  /** Answer every CONNECT with this status instead of tunnelling. */
  refuse?: number
  /** Require these Basic credentials (user:password). */
  credentials?: string
}

export async function startProxy(options: ProxyOptions = {}): Promise<RunningServer & {requests: string[]}> {
  const requests: string[] = []
  const server: HttpServer = createHttpServer()
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  server.on('connect', (req, client: Socket, head: Buffer) => {
    requests.push(`${req.method} ${req.url}`)
    client.on('error', () => undefined)
    const expected = options.credentials === undefined ? undefined : `Basic ${Buffer.from(options.credentials).toString('base64')}`
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    if (options.refuse !== undefined) {
      client.end(`HTTP/1.1 ${options.refuse} Forbidden\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(req.url!.slice(req.url!.lastIndexOf(':') + 1))]
    const upstream = connect({host, port}, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    sockets.add(upstream)
    upstream.once('close', () => sockets.delete(upstream))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
