/**
 * The registered protocols, in chain order (the order their issues are listed in, and the order
 * the ladder and the probe name them). Adding a protocol: one module next to these (its
 * registration: name = facts key, attachments, reader, facts, issues) and one line here.
 */
import {httpProtocol} from './http.js'
import {proxyProtocol} from './proxy.js'
import {ProtocolChain, type AnyProtocol, type ProtocolName} from './registry.js'
import {tlsProtocol} from './tls.js'
import {webSocketProtocol} from './websocket.js'

export const PROTOCOLS: readonly AnyProtocol[] = [proxyProtocol, tlsProtocol, httpProtocol, webSocketProtocol]

/** The chain PROTOCOLS make (each tag's payload route), which every connection's readers follow. */
export const PROTOCOL_CHAIN = new ProtocolChain(PROTOCOLS)

/** The registered protocols' names in chain order. */
export function protocolNames(): ProtocolName[] {
  return PROTOCOLS.map((protocol) => protocol.name)
}

export {attachedTo, ProtocolChain, TCP, type AnyProtocol, type PayloadRoute, type ProtocolFactsByName, type ProtocolName, type ReaderContext} from './registry.js'
