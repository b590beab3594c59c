/**
 * GRE decoder (RFC 2784, keys and sequence numbers RFC 2890) and the ERSPAN headers that ride
 * on it (draft-foschiano-erspan: type II on 0x88BE with the S bit, type III on 0x22EB, type I
 * on 0x88BE without a header). Port mirrors ship Console traffic to a collector this way.
 */
import {noteIssue, type DecodeFeedback} from './feedback.js'

export const IPPROTO_GRE = 47
export const GRE_PROTO_ERSPAN_II = 0x88be
export const GRE_PROTO_ERSPAN_III = 0x22eb
/** Transparent Ethernet bridging: the payload is an Ethernet frame. */
export const GRE_PROTO_TEB = 0x6558

export interface GreLayer {
  /** EtherType of the payload after any ERSPAN header; 0x6558 = Ethernet frame. */
  protocolType: number
  /** GRE key (RFC 2890 §2.1) or ERSPAN session id, 0 when absent. */
  key: number
  erspan?: 1 | 2 | 3
  payload: Uint8Array
}

export function decodeGre(data: Uint8Array, feedback: DecodeFeedback): GreLayer | undefined {
  if (data.length < 4) {
    feedback.truncated = true
    return undefined
  }
  const flags = data[0]!
  const version = data[1]! & 0x07
  if (version !== 0) {
    // Version 1 is PPTP's enhanced GRE (RFC 2637), which carries PPP, not IP or Ethernet.
    noteIssue(feedback, 'gre.unsupported-version', `GRE version ${version} is not decoded`)
    return undefined
  }
  const checksum = (flags & 0x80) !== 0
  const hasKey = (flags & 0x20) !== 0
  const hasSequence = (flags & 0x10) !== 0
  let offset = 4 + (checksum ? 4 : 0)
  let key = 0
  if (hasKey) {
    if (data.length < offset + 4) return cut(feedback)
    key = ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0
    offset += 4
  }
  if (hasSequence) offset += 4
  if (data.length < offset) return cut(feedback)
  const protocolType = (data[2]! << 8) | data[3]!
  if (protocolType === GRE_PROTO_ERSPAN_II) {
    // Type I has no ERSPAN header and no sequence number; type II always sets S.
    if (!hasSequence) return {protocolType: GRE_PROTO_TEB, key, erspan: 1, payload: data.subarray(offset)}
    if (data.length < offset + 8) return cut(feedback)
    const session = ((data[offset + 2]! & 0x03) << 8) | data[offset + 3]!
    return {protocolType: GRE_PROTO_TEB, key: session, erspan: 2, payload: data.subarray(offset + 8)}
  }
  if (protocolType === GRE_PROTO_ERSPAN_III) {
    if (data.length < offset + 12) return cut(feedback)
    const session = ((data[offset + 2]! & 0x03) << 8) | data[offset + 3]!
    // O bit (last bit of the 12-byte header): an 8-byte platform-specific subheader follows.
    const platform = (data[offset + 11]! & 0x01) !== 0 ? 8 : 0
    if (data.length < offset + 12 + platform) return cut(feedback)
    return {protocolType: GRE_PROTO_TEB, key: session, erspan: 3, payload: data.subarray(offset + 12 + platform)}
  }
  return {protocolType, key, payload: data.subarray(offset)}
}

function cut(feedback: DecodeFeedback): undefined {
  feedback.truncated = true
  return undefined
}
