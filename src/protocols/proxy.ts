/**
 * The proxy preamble (HTTP CONNECT, SOCKS4/4a, SOCKS5) in front of what the Defender sends the
 * Console: present or not, it sniffs every stream's opening and passes the stream (or, once the
 * proxy opened it, the tunnel) on to the other protocols attached to TCP. The preamble's own protocols are registered in
 * protocols/proxy/protocols.ts.
 */
import {ProxyPreambleReader} from './proxy/preamble.js'
import type {ProxyFacts} from './proxy/types.js'
import {defineProtocol, TCP} from './registry.js'

declare module './registry.js' {
  interface ProtocolFactsByName {
    /** An HTTP CONNECT or SOCKS exchange with a proxy before TLS (the TCP server is then the proxy). */
    proxy: ProxyFacts
  }
}

export const proxyProtocol = defineProtocol({
  name: 'proxy',
  attaches: [{to: TCP, sniffs: true}],
  // A preamble is only recognised from the connection's first bytes, which a capture that
  // started mid-connection does not have.
  reader: (context) => new ProxyPreambleReader(context.payload(), {fromOpening: context.fromOpening}),
  facts: (reader) => reader.facts(),
  issues: (reader) => ({issues: reader.issues, omitted: reader.truncated?.issues ?? 0}),
})
