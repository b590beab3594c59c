/** What the probe's phases share: how a phase's time is measured and where a TLS alert is noted. */
import {isIP} from 'node:net'
import type {HandshakeFacts, ReceivedAlert} from '../../model/probe.js'
import {alertOf} from '../failure.js'

/** Milliseconds since `t0` (performance.now()), to the µs. */
export function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000
}

/** `host:port`, `[v6]:port`. */
export function formatAuthority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

/** Records the TLS alert an error carries, once: the first alert is the cause. */
export function noteAlert(handshake: HandshakeFacts | undefined, error: unknown, during: ReceivedAlert['during']): void {
  const alert = alertOf(error)
  if (handshake && alert && !handshake.alert) handshake.alert = {...alert, during}
}
