/** Phase 2, TCP: the resolved addresses in resolver order, sharing one deadline, as Go's dialer does. */
import {connect as netConnect, type Socket} from 'node:net'
import type {ProbeFacts} from '../../model/probe.js'
import {failureOf, PhaseTimeout, withTimeout} from '../failure.js'
import {elapsed, formatAuthority} from './common.js'

/** The connected socket, or undefined when no address answered (`tcp.error` says why). */
export async function connectTcpPhase(facts: ProbeFacts, port: number, timeoutMs: number): Promise<Socket | undefined> {
  const tcpStart = performance.now()
  let socket: Socket | undefined
  for (const {address} of facts.dns.addresses) {
    const left = timeoutMs - (performance.now() - tcpStart)
    const t0 = performance.now()
    try {
      socket = await connectTcp(address, port, Math.max(1, left))
      facts.tcp.attempts.push({address, ms: elapsed(t0)})
      break
    } catch (error) {
      facts.tcp.attempts.push({address, ms: elapsed(t0), error: failureOf(error)})
      if (error instanceof PhaseTimeout) break
    }
  }
  facts.tcp.ms = elapsed(tcpStart)
  if (!socket) {
    facts.tcp.error = facts.tcp.attempts[facts.tcp.attempts.length - 1]?.error ?? {code: 'ENOTFOUND', message: `no address for ${facts.dns.name}`}
    return undefined
  }
  facts.tcp.local = {ip: socket.localAddress!, port: socket.localPort!}
  facts.tcp.remote = {ip: socket.remoteAddress!, port: socket.remotePort!}
  return socket
}

function connectTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = netConnect({host: address, port})
  const connected = new Promise<Socket>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
  return withTimeout(connected, timeoutMs, `to the SYN sent to ${formatAuthority(address, port)}`, () => socket.destroy())
}
