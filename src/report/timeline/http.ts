/** The HTTP upgrade's share of the ladder: the request line and the response status (RFC 6455 §4). */
import type {LadderPart} from './events.js'

export const httpLadder: LadderPart = {
  events({facts, appEvent}) {
    const http = facts.http
    if (http?.request) appEvent(http.request, 'client', 'http-request', `${http.request.method} ${http.request.path}`, {detail: http.request.httpVersion})
    if (http?.response) {
      const accept = http.response.acceptValid === undefined ? '' : http.response.acceptValid ? ', Sec-WebSocket-Accept ✓' : ', Sec-WebSocket-Accept ✗'
      appEvent(http.response, 'server', 'http-response', `${http.response.status} ${http.response.reason}`.trim(), {detail: `HTTP response${accept}`})
    }
  },
}
