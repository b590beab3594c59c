/**
 * The proxy preamble's protocols, each in its own module (the client speaks first in all three,
 * and their first bytes tell them apart: 0x05, 0x04, "CONNECT "). Adding one: a module
 * implementing ProxyPreambleProtocol (preamble-protocol.ts) and a line here.
 */
import {httpConnectPreamble} from './connect-preamble.js'
import type {ProxyPreambleProtocol} from './preamble-protocol.js'
import {socks4Preamble} from './socks4-preamble.js'
import {socks5Preamble} from './socks5-preamble.js'

export const PROXY_PREAMBLES: readonly ProxyPreambleProtocol[] = [socks5Preamble, socks4Preamble, httpConnectPreamble]
