/**
 * The HTTP/1.1 upgrade request and response (RFC 6455 §4, RFC 9112): decrypted TLS application
 * data, or cleartext on a ws:// port (recognised by "GET ", the only method a WebSocket upgrade
 * uses, RFC 6455 §4.1). After a 101 with `Upgrade: websocket` it hands each direction's bytes to
 * its children, with its facts (permessage-deflate accepted or not).
 */
import {HttpUpgradeReader} from './http/upgrade.js'
import type {HttpUpgradeFacts} from './http/types.js'
import {defineProtocol, TCP} from './registry.js'

declare module './registry.js' {
  interface ProtocolFactsByName {
    /** The HTTP upgrade request and response (decrypted, or cleartext on a ws:// port). */
    http: HttpUpgradeFacts
  }
}

/** "GET " (RFC 6455 §4.1). */
const HTTP_GET = [0x47, 0x45, 0x54, 0x20]

function startsWithGet(first: Uint8Array): boolean {
  return first.length >= HTTP_GET.length && HTTP_GET.every((b, i) => first[i] === b)
}

export const httpProtocol = defineProtocol({
  name: 'http',
  attaches: [{to: TCP, recognise: startsWithGet}, {to: 'tls'}],
  reader: (context) => new HttpUpgradeReader({onUpgrade: (facts) => context.payload(facts)}),
  facts: (reader) => reader.facts,
  issues: (reader) => ({issues: reader.facts.issues, omitted: reader.facts.truncated?.issues ?? 0}),
})
