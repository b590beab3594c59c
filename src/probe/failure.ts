/**
 * How a failed phase is named: the system or OpenSSL error code (ECONNREFUSED, ENOTFOUND,
 * ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED...) and a message without OpenSSL's source-file noise,
 * plus the TLS alert a server sent, which OpenSSL reports as "SSL alert number N".
 */
import {ALERT_DESCRIPTIONS} from '../protocols/tls/iana/alerts.js'
import {nameOf} from '../protocols/tls/iana/table.js'
import type {ProbeFailure} from '../model/probe.js'

/** A phase ran out of time: named like the system's own connect timeout. */
export class PhaseTimeout extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(what: string, ms: number) {
    super(`no answer ${what} within ${formatSeconds(ms)}`)
  }
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}

export function failureOf(error: unknown): ProbeFailure {
  if (!(error instanceof Error)) return {code: 'ERROR', message: String(error)}
  const code = (error as NodeJS.ErrnoException).code
  return {code: typeof code === 'string' && code !== '' ? code : 'ERROR', message: cleanMessage(error.message)}
}

/**
 * OpenSSL messages look like `80DC84CD877F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13
 * alert certificate required:../deps/openssl/.../rec_layer_s3.c:1601:SSL alert number 116`: keep
 * the reason and the alert number.
 */
function cleanMessage(message: string): string {
  const ssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):[^:]*:\d+:(.*)$/s.exec(message.trim())
  if (!ssl) return message.trim()
  return ssl[2] ? `${ssl[1]} (${ssl[2].trim()})` : ssl[1]
}

/** The alert the peer sent, when the error is OpenSSL reporting one. */
export function alertOf(error: unknown): {description: number; name: string} | undefined {
  if (!(error instanceof Error)) return undefined
  const match = /SSL alert number (\d+)/.exec(error.message)
  if (!match) return undefined
  const description = Number(match[1])
  return {description, name: nameOf(ALERT_DESCRIPTIONS, description)}
}

/** Runs `start` with a deadline; on timeout `cancel` cleans up and the promise rejects with PhaseTimeout. */
export function withTimeout<T>(start: Promise<T>, ms: number, what: string, cancel?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel?.()
      reject(new PhaseTimeout(what, ms))
    }, ms)
    start.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
