/** UDP header decoder (RFC 768). */
import {noteIssue, type DecodeFeedback} from './feedback.js'
import type {UdpHeader} from './types.js'

/**
 * Decodes the UDP header at the start of `data`, `wireLength` being the datagram length the IP
 * header announces. The payload ends where the UDP Length says. Undefined when the header is cut
 * (truncated) or its length contradicts the IP length (an Issue).
 */
export function decodeUdp(data: Uint8Array, wireLength: number, feedback: DecodeFeedback): UdpHeader | undefined {
  if (data.length < 8) {
    feedback.truncated = true
    return undefined
  }
  let length = (data[4]! << 8) | data[5]!
  // Length 0 is legal over IPv6 jumbograms (RFC 2675 §4): the IP length rules.
  if (length === 0) length = wireLength
  if (length < 8 || length > wireLength) {
    noteIssue(feedback, 'udp.bad-length', `UDP length ${length} does not fit the IP payload of ${wireLength} bytes`)
    return undefined
  }
  return {
    srcPort: (data[0]! << 8) | data[1]!,
    dstPort: (data[2]! << 8) | data[3]!,
    length,
    payload: data.subarray(8, Math.min(length, data.length)),
  }
}
