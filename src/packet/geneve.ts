/** GENEVE decoder (RFC 8926 §3): the tunnel header Prisma Microperimeter hairpins traffic in. */
import {noteIssue, type DecodeFeedback} from './feedback.js'
import type {GeneveOption} from './types.js'

/** IANA-assigned UDP destination port (RFC 8926 §3.3). */
export const GENEVE_PORT = 6081

export interface GeneveLayer {
  version: number
  /** O bit: an OAM (control) packet. */
  oam: boolean
  /** C bit: some option is critical. */
  critical: boolean
  /** EtherType of the payload (0x6558 = Ethernet frame). */
  protocolType: number
  /** 24-bit Virtual Network Identifier. */
  vni: number
  /** Options in wire order; `data` is a view into the frame (copy to keep it). */
  options: GeneveOption[]
  payload: Uint8Array
}

/**
 * Decodes the GENEVE header at the start of a UDP payload. Undefined when it is cut
 * (truncated) or malformed: unknown version, an option running past the options area (Issue).
 */
export function decodeGeneve(data: Uint8Array, feedback: DecodeFeedback): GeneveLayer | undefined {
  if (data.length < 8) {
    feedback.truncated = true
    return undefined
  }
  const version = data[0]! >> 6
  if (version !== 0) {
    // §3.4: a packet with an unknown version must be dropped; its layout is unknown.
    noteIssue(feedback, 'geneve.bad-version', `GENEVE version ${version} is not 0`)
    return undefined
  }
  const headerLength = 8 + (data[0]! & 0x3f) * 4
  if (data.length < headerLength) {
    feedback.truncated = true
    return undefined
  }
  const options: GeneveOption[] = []
  // §3.5: each option is class (16), type (8), 3 reserved bits and a 5-bit length in 4-byte
  // words excluding its own 4-byte header. The options area is a whole number of words, so an
  // option header always fits; only its data can overrun.
  for (let i = 8; i < headerLength; ) {
    const end = i + 4 + (data[i + 3]! & 0x1f) * 4
    if (end > headerLength) {
      noteIssue(feedback, 'geneve.bad-option', `GENEVE option at offset ${i} runs past the options area`)
      return undefined
    }
    options.push({optionClass: (data[i]! << 8) | data[i + 1]!, type: data[i + 2]!, data: data.subarray(i + 4, end)})
    i = end
  }
  return {
    version,
    oam: (data[1]! & 0x80) !== 0,
    critical: (data[1]! & 0x40) !== 0,
    protocolType: (data[2]! << 8) | data[3]!,
    vni: ((data[4]! << 16) | (data[5]! << 8) | data[6]!) >>> 0,
    options,
    payload: data.subarray(headerLength),
  }
}
