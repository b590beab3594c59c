/** WebSocket's share of the ladder: pings with their pongs, and the close frames (RFC 6455 §5.5). */
import {formatMs} from '../../model/format.js'
import {otherSide} from './format.js'
import type {LadderPart} from './events.js'

export const webSocketLadder: LadderPart = {
  events({facts, appEvent}) {
    const ws = facts.ws
    if (ws) {
      for (const ping of ws.pings) {
        appEvent(ping, ping.from, 'ws-ping', 'ping', ping.pong ? {} : {detail: 'unanswered'})
        if (ping.pong) appEvent(ping.pong, otherSide(ping.from), 'ws-pong', 'pong', {detail: `RTT ${formatMs(ping.pong.rttMs)}`})
      }
      for (const close of [ws.close.client, ws.close.server]) {
        if (!close) continue
        const from = close === ws.close.client ? 'client' : 'server'
        appEvent(close, from, 'ws-close', 'close', {detail: close.code === undefined ? 'no code' : `${close.code}${close.reason ? ` ${close.reason}` : ''}`})
      }
    }
  },
}
