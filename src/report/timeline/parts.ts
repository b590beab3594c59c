/**
 * Each protocol's share of the ladder, by its name in the protocol registry (src/protocols/):
 * buildTimeline draws TCP's part, then each registered protocol's. A protocol with no part here
 * draws nothing of its own (its bytes are still drawn by its carrier).
 */
import type {ProtocolName} from '../../protocols/index.js'
import type {LadderPart} from './events.js'
import {httpLadder} from './http.js'
import {proxyLadder} from './proxy.js'
import {tlsLadder} from './tls.js'
import {webSocketLadder} from './websocket.js'

export {tcpLadder} from './tcp.js'

export const LADDER_PARTS: Partial<Record<ProtocolName, LadderPart>> = {
  proxy: proxyLadder,
  tls: tlsLadder,
  http: httpLadder,
  ws: webSocketLadder,
}
