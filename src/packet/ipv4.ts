/** IPv4 header decoder (RFC 791 §3.1). */
import {formatIpv4} from './address.js'
import {noteIssue, type DecodeFeedback} from './feedback.js'
import type {IpLayer} from './ip.js'
import type {IpHeader} from './types.js'

/**
 * Decodes the IPv4 header at the start of `data`. The payload ends where Total Length says
 * (trimming Ethernet padding); a payload cut by snaplen sets feedback.truncated. Undefined when
 * the header itself is cut (truncated) or malformed (an Issue).
 */
export function decodeIpv4(data: Uint8Array, feedback: DecodeFeedback): IpLayer | undefined {
  if (data.length < 20) {
    feedback.truncated = true
    return undefined
  }
  const version = data[0]! >> 4
  if (version !== 4) {
    noteIssue(feedback, 'ip.bad-version', `IPv4 EtherType but IP version ${version}`)
    return undefined
  }
  const headerLength = (data[0]! & 0x0f) * 4
  if (headerLength < 20) {
    noteIssue(feedback, 'ip.bad-header-length', `IPv4 header length ${headerLength} is below the minimum of 20`)
    return undefined
  }
  if (data.length < headerLength) {
    feedback.truncated = true
    return undefined
  }
  let totalLength = (data[2]! << 8) | data[3]!
  // Total Length 0 is what a sender-side capture of a TSO/GSO super-segment shows: the NIC
  // fills it in later. The captured bytes are then the best length there is.
  if (totalLength === 0) totalLength = data.length
  else if (totalLength < headerLength) {
    noteIssue(feedback, 'ip.bad-length', `IPv4 total length ${totalLength} is shorter than its header (${headerLength})`)
    return undefined
  }
  if (data.length < totalLength) feedback.truncated = true
  const header: IpHeader = {
    version: 4,
    src: formatIpv4(data, 12),
    dst: formatIpv4(data, 16),
    protocol: data[9]!,
    ttl: data[8]!,
  }
  const flagsAndOffset = (data[6]! << 8) | data[7]!
  const moreFragments = (flagsAndOffset & 0x2000) !== 0
  const offset = (flagsAndOffset & 0x1fff) * 8
  if (moreFragments || offset > 0) header.fragment = {id: (data[4]! << 8) | data[5]!, offset, moreFragments}
  return {
    header,
    payload: data.subarray(headerLength, Math.min(totalLength, data.length)),
    payloadLength: totalLength - headerLength,
  }
}
