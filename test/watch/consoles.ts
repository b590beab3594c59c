/**
 * Real peers for the watch tests, on loopback (127.0.8.x, ports 28xxx: this suite's range): a
 * well-behaved mTLS WebSocket Console (node:https + ws, the fixture PKI, a Date header on its
 * 101) and hostile ones written at the byte level over node:tls (never answering, endless
 * headers, a huge frame, a 1 GB frame header, a wrong Sec-WebSocket-Accept).
 */
import {createHash} from 'node:crypto'
import {createServer as createHttpsServer} from 'node:https'
import {createServer as createNetServer, type Server as NetServer, type Socket} from 'node:net'
import {createServer as createTlsServer, type TLSSocket} from 'node:tls'
import {WebSocketServer, type WebSocket} from 'ws'
import {cert} from '../probe/servers.js'

export const HOST = '127.0.8.1'

export interface Peer {
  port: number
  close(): Promise<void>
}

export interface WellBehavedConsole extends Peer {
  /** Close codes the Console received from clients, in order. */
  closeCodes: number[]
  /** Upgrades answered. */
  upgrades: number
  /** Open sessions. */
  clients(): number
}

function tracked(server: NetServer): {sockets: Set<Socket>; closeAll(): Promise<void>} {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('error', () => undefined)
    s.once('close', () => sockets.delete(s))
  })
  return {
    sockets,
    closeAll: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

async function listen(server: NetServer, port: number, host = HOST): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return (server.address() as {port: number}).port
}

/** The mTLS Console: TLS 1.3, the Defender CA required, answers pings (ws autoPong) unless `answerPings` is false. */
export async function startWellBehavedConsole(port: number, options: {answerPings?: boolean} = {}): Promise<WellBehavedConsole> {
  const server = createHttpsServer({key: cert('console-server.key'), cert: cert('console-server.pem'), ca: cert('defender-ca.pem'), minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: true})
  const wss = new WebSocketServer({noServer: true, autoPong: options.answerPings !== false})
  const closeCodes: number[] = []
  let upgrades = 0
  // RFC 9110 §6.6.1: an origin server with a clock sends Date; ws' 101 has none of its own.
  wss.on('headers', (headers) => headers.push(`Date: ${new Date().toUTCString()}`))
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => undefined)
    ws.on('close', (code) => closeCodes.push(code))
  })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined)
    upgrades++
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  server.on('tlsClientError', () => undefined)
  const t = tracked(server)
  const bound = await listen(server, port)
  return {
    port: bound,
    closeCodes,
    get upgrades() {
      return upgrades
    },
    clients: () => wss.clients.size,
    close: () => {
      for (const client of wss.clients) client.terminate()
      return t.closeAll()
    },
  }
}

/** A TCP listener that accepts and never says a word (a black-holed Console). */
export async function startSilentListener(port: number): Promise<Peer> {
  const server = createNetServer(() => undefined)
  const t = tracked(server)
  return {port: await listen(server, port), close: t.closeAll}
}

/**
 * A TLS Console (the fixture server certificate, the Defender's required) that reads the upgrade
 * request and then does `behave` with the raw TLS socket and the request's Sec-WebSocket-Key.
 */
export async function startRawConsole(port: number, behave: (socket: TLSSocket, key: string) => void): Promise<Peer> {
  const server = createTlsServer({key: cert('console-server.key'), cert: cert('console-server.pem'), ca: cert('defender-ca.pem'), minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: true}, (socket) => {
    socket.on('error', () => undefined)
    let request = ''
    const onData = (chunk: Buffer) => {
      request += chunk.toString('latin1')
      if (!request.includes('\r\n\r\n')) return
      socket.off('data', onData)
      const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? ''
      behave(socket, key)
    }
    socket.on('data', onData)
  })
  server.on('tlsClientError', () => undefined)
  const sockets = new Set<TLSSocket>()
  server.on('secureConnection', (s: TLSSocket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  const t = tracked(server)
  const bound = await listen(server, port)
  return {
    port: bound,
    close: () => {
      for (const s of sockets) s.destroy()
      return t.closeAll()
    },
  }
}

/** RFC 6455 §4.2.2: base64(SHA-1(key + the GUID)). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
}

export function switchingProtocols(accept: string): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`
}

/** An unmasked binary frame header (server to client, RFC 6455 §5.2) announcing `length` bytes. */
export function binaryFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x82, length])
  if (length < 65536) {
    const header = Buffer.alloc(4)
    header[0] = 0x82
    header[1] = 126
    header.writeUInt16BE(length, 2)
    return header
  }
  const header = Buffer.alloc(10)
  header[0] = 0x82
  header[1] = 127
  header.writeBigUInt64BE(BigInt(length), 2)
  return header
}

/** Polls `probe` until it returns a value (not undefined), or fails after `boundMs` with `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, boundMs = 30_000): Promise<T> {
  const until = Date.now() + boundMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`gave up after ${boundMs / 1000} s waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
