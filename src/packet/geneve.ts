/** GENEVE decoder (RFC 8926 §3): the tunnel header Prisma Microperimeter hairpins traffic in. */
import {noteIssue, type DecodeFeedback} from './feedback.js'
import {MICROPERIMETER_OPTION_TYPE, type GeneveOption, type TunnelOption} from './types.js'

/** IANA-assigned UDP destination port (RFC 8926 §3.3). */
export const GENEVE_PORT = 6081

/**
 * The most options one GENEVE header can hold, so the cap on TunnelInfo.options: the options
 * area is at most 63 words (Opt Len is 6 bits, §3.4: 252 bytes) and every option takes at
 * least its 4-byte header (§3.5), so no header holds more than 63. Nothing is truncated.
 */
export const MAX_GENEVE_OPTIONS = 63

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

/**
 * An option as the tunnel facts keep it (RFC 8926 §3.5): the critical bit is the type's high
 * bit, the length is the whole option's in bytes (4-byte header + data), the data is copied out
 * as hex. Type 0x20 is named 'microperimeter' whatever its class; its data is shown as it is.
 */
export function tunnelOption(option: GeneveOption): TunnelOption {
  const kept: TunnelOption = {
    optionClass: option.optionClass,
    type: option.type,
    critical: (option.type & 0x80) !== 0,
    length: 4 + option.data.length,
    data: Buffer.from(option.data.buffer, option.data.byteOffset, option.data.byteLength).toString('hex'),
  }
  if (option.type === MICROPERIMETER_OPTION_TYPE) kept.name = 'microperimeter'
  return kept
}
