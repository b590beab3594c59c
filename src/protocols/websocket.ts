/** WebSocket frames after the 101 (RFC 6455 §5): pings and pongs, close, permessage-deflate (RFC 7692). */
import type {HttpUpgradeFacts} from './http/types.js'
import {WebSocketReader} from './websocket/frames.js'
import type {WebSocketFacts} from './websocket/types.js'
import {defineProtocol} from './registry.js'

declare module './registry.js' {
  interface ProtocolFactsByName {
    /** WebSocket frames after the 101: counts, pings/pongs, close. */
    ws: WebSocketFacts
  }
}

export const webSocketProtocol = defineProtocol({
  name: 'ws',
  attaches: [{to: 'http', handedOver: true}],
  reader: (context) => new WebSocketReader({permessageDeflate: (context.handedOver as HttpUpgradeFacts).permessageDeflate.accepted}),
  facts: (reader) => reader.facts,
  // Its issues are capped per code (protocols/websocket/frames.ts), none left out uncounted.
  issues: (reader) => ({issues: reader.facts.issues, omitted: 0}),
})
