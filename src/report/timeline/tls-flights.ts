/** TLS 1.3 flights without keys: which records a side's encrypted flight holds, and what its size says. */
import type {ClientFlightKind, Tls13Handshake} from '../../model/facts.js'
import type {TlsRecordRef} from '../../protocols/tls/types.js'

/**
 * TLS 1.3 flights without keys, keyed by their first record. The client's flight is cut where
 * its size says the handshake ends (a Finished alone; empty Certificate + Finished; a certificate
 * up to the Finished-sized record): what follows is application data.
 */
export function tls13Flights(hs: Tls13Handshake): Map<TlsRecordRef, TlsRecordRef[]> {
  const flights = new Map<TlsRecordRef, TlsRecordRef[]>()
  if (hs.serverFlight.length > 0) flights.set(hs.serverFlight[0], hs.serverFlight)
  const client = hs.clientFlight
  let length = client.length
  if (hs.clientFlightKind === 'finished' || hs.clientFlightKind === 'alert') length = 1
  else if (hs.clientFlightKind === 'empty-certificate') length = 2
  else if (hs.clientFlightKind === 'certificate') {
    const finished = client.findIndex((r, i) => i > 0 && r.length === hs.sizes.finished)
    if (finished >= 0) length = finished + 1
  }
  if (client.length > 0) flights.set(client[0], client.slice(0, Math.min(length, client.length)))
  return flights
}

/** What a flight's size says it holds (checks/tls-common.ts explains the sizes). */
export function flightContent(kind: ClientFlightKind | 'server' | undefined): string {
  switch (kind) {
    case 'server':
      return ': EncryptedExtensions … Finished'
    case 'finished':
      return ': Finished'
    case 'empty-certificate':
      return ': empty Certificate, Finished'
    case 'certificate':
      return ': Certificate, CertificateVerify, Finished'
    case 'alert':
      return ": an alert's size"
    default:
      return ''
  }
}
