/** IPv6 header decoder (RFC 8200 §3) with extension headers skipped (§4). */
import {formatIpv6} from './address.js'
import {noteIssue, type DecodeFeedback} from './feedback.js'
import type {IpLayer} from './ip.js'
import type {IpHeader} from './types.js'

const HOP_BY_HOP = 0
const ROUTING = 43
const FRAGMENT = 44
const AUTHENTICATION = 51
const DESTINATION = 60
const MOBILITY = 135
const HIP = 139
const SHIM6 = 140

/**
 * Decodes the IPv6 header at the start of `data` and skips the extension headers that follow,
 * so `header.protocol` is the upper-layer protocol. The payload ends where Payload Length says;
 * a payload cut by snaplen sets feedback.truncated. Undefined when a header is cut
 * (truncated) or malformed (an Issue).
 */
export function decodeIpv6(data: Uint8Array, feedback: DecodeFeedback): IpLayer | undefined {
  if (data.length < 40) {
    feedback.truncated = true
    return undefined
  }
  const version = data[0]! >> 4
  if (version !== 6) {
    noteIssue(feedback, 'ip.bad-version', `IPv6 EtherType but IP version ${version}`)
    return undefined
  }
  let payloadLength = (data[4]! << 8) | data[5]!
  // 0 is a jumbogram (RFC 2675) or a sender-side TSO capture: the captured bytes are the length.
  if (payloadLength === 0) payloadLength = data.length - 40
  const end = 40 + payloadLength
  if (data.length < end) feedback.truncated = true
  const header: IpHeader = {
    version: 6,
    src: formatIpv6(data, 8),
    dst: formatIpv6(data, 24),
    protocol: data[6]!,
    ttl: data[7]!,
  }
  let offset = 40
  for (;;) {
    const next = header.protocol
    if (!isExtensionHeader(next)) {
      return {header, payload: data.subarray(offset, Math.min(end, data.length)), payloadLength: end - offset}
    }
    // The fixed part that says how long the extension header is: next header + length byte,
    // or the whole 8-byte fragment header.
    const fixed = next === FRAGMENT ? 8 : 2
    if (offset + fixed > end) return extensionPastEnd(next, feedback)
    if (data.length < offset + fixed) break
    let length: number
    if (next === FRAGMENT) {
      // RFC 8200 §4.5: offset in 8-octet units in the top 13 bits, M flag in bit 0.
      length = 8
      const offsetAndFlags = (data[offset + 2]! << 8) | data[offset + 3]!
      header.fragment = {
        id: ((data[offset + 4]! << 24) | (data[offset + 5]! << 16) | (data[offset + 6]! << 8) | data[offset + 7]!) >>> 0,
        offset: offsetAndFlags & 0xfff8,
        moreFragments: (offsetAndFlags & 1) !== 0,
      }
    } else if (next === AUTHENTICATION) {
      // RFC 4302 §2.2: length in 4-octet units, minus 2.
      length = (data[offset + 1]! + 2) * 4
    } else {
      // RFC 8200 §4.3-4.6, RFC 6275 §6.1, RFC 7401 §5.1, RFC 5533 §5.1: length in 8-octet
      // units, not counting the first 8.
      length = (data[offset + 1]! + 1) * 8
    }
    if (offset + length > end) return extensionPastEnd(next, feedback)
    if (data.length < offset + length) break
    header.protocol = data[offset]!
    offset += length
  }
  // An extension header is cut by the capture.
  feedback.truncated = true
  return undefined
}

function isExtensionHeader(next: number): boolean {
  return (
    next === HOP_BY_HOP || next === ROUTING || next === FRAGMENT || next === DESTINATION ||
    next === AUTHENTICATION || next === MOBILITY || next === HIP || next === SHIM6
  )
}

function extensionPastEnd(next: number, feedback: DecodeFeedback): undefined {
  noteIssue(feedback, 'ip.bad-length', `IPv6 extension header ${next} runs past the payload length`)
  return undefined
}
