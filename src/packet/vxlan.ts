/** VXLAN decoder (RFC 7348 §5): an 8-byte header in UDP, then an Ethernet frame. */
import {noteIssue, type DecodeFeedback} from './feedback.js'

/** IANA-assigned UDP port (RFC 7348 §5). Matched on either port: senders use it as source too. */
export const VXLAN_PORT = 4789

export interface VxlanLayer {
  /** 24-bit VXLAN Network Identifier. */
  vni: number
  /** The inner Ethernet frame. */
  payload: Uint8Array
}

export function decodeVxlan(data: Uint8Array, feedback: DecodeFeedback): VxlanLayer | undefined {
  if (data.length < 8) {
    feedback.truncated = true
    return undefined
  }
  // §5: flags byte with the I bit (0x08) set for a valid VNI; the other bits are reserved.
  if ((data[0]! & 0x08) === 0) {
    noteIssue(feedback, 'vxlan.no-vni', 'VXLAN header without the I flag: not decoded')
    return undefined
  }
  return {vni: ((data[4]! << 16) | (data[5]! << 8) | data[6]!) >>> 0, payload: data.subarray(8)}
}
