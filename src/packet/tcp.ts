/** TCP header decoder (RFC 9293 §3.1) with the options a handshake analysis reads. */
import {noteIssue, type DecodeFeedback} from './feedback.js'
import type {TcpHeader, TcpOptions} from './types.js'

const OPTION_EOL = 0
const OPTION_NOP = 1
const OPTION_MSS = 2 // RFC 9293 §3.2
const OPTION_WINDOW_SCALE = 3 // RFC 7323 §2.2
const OPTION_SACK_PERMITTED = 4 // RFC 2018 §2
const OPTION_SACK = 5 // RFC 2018 §3
const OPTION_TIMESTAMPS = 8 // RFC 7323 §3.2

/**
 * Decodes the TCP header at the start of `data`, `wireLength` being the segment length the IP
 * header announces. A payload shorter than the wire payload (snaplen) sets feedback.truncated.
 * Undefined when the header (with its options) is cut (truncated) or malformed (an Issue).
 */
export function decodeTcp(data: Uint8Array, wireLength: number, feedback: DecodeFeedback): TcpHeader | undefined {
  if (data.length < 20) {
    feedback.truncated = true
    return undefined
  }
  const headerLength = (data[12]! >> 4) * 4
  if (headerLength < 20) {
    noteIssue(feedback, 'tcp.bad-header-length', `TCP data offset ${headerLength} is below the minimum of 20`)
    return undefined
  }
  if (headerLength > wireLength) {
    noteIssue(feedback, 'tcp.bad-header-length', `TCP header length ${headerLength} exceeds the segment length ${wireLength}`)
    return undefined
  }
  if (data.length < headerLength) {
    feedback.truncated = true
    return undefined
  }
  const payloadLength = wireLength - headerLength
  const payload = data.subarray(headerLength)
  if (payload.length < payloadLength) feedback.truncated = true
  return {
    srcPort: (data[0]! << 8) | data[1]!,
    dstPort: (data[2]! << 8) | data[3]!,
    seq: readUint32(data, 4),
    ack: readUint32(data, 8),
    flags: data[13]!,
    window: (data[14]! << 8) | data[15]!,
    options: headerLength > 20 ? decodeTcpOptions(data, 0, headerLength, feedback) : {},
    payload,
    payloadLength,
  }
}

function readUint32(data: Uint8Array, offset: number): number {
  return ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0
}

/**
 * Reads the options of the TCP header at data[header..], whose length is `headerLength`: the
 * bytes from header+20 to header+headerLength. A length byte that is missing, below 2, past the
 * header, or wrong for its kind makes the rest unreadable: an Issue, and the options read so far
 * stand.
 */
export function decodeTcpOptions(data: Uint8Array, header: number, headerLength: number, feedback: DecodeFeedback): TcpOptions {
  const options: TcpOptions = {}
  const end = header + headerLength
  let i = header + 20
  while (i < end) {
    const kind = data[i]!
    if (kind === OPTION_EOL) break
    if (kind === OPTION_NOP) {
      i++
      continue
    }
    const length = i + 1 < end ? data[i + 1]! : 0
    if (length < 2 || i + length > end || !lengthFits(kind, length)) {
      noteIssue(feedback, 'tcp.bad-option', `TCP option ${kind} has invalid length ${length} at header offset ${i - header}`)
      break
    }
    switch (kind) {
      case OPTION_MSS:
        options.mss = (data[i + 2]! << 8) | data[i + 3]!
        break
      case OPTION_WINDOW_SCALE:
        options.windowScale = data[i + 2]!
        break
      case OPTION_SACK_PERMITTED:
        options.sackPermitted = true
        break
      case OPTION_SACK: {
        const blocks: Array<[number, number]> = []
        for (let b = i + 2; b < i + length; b += 8) blocks.push([readUint32(data, b), readUint32(data, b + 4)])
        options.sack = blocks
        break
      }
      case OPTION_TIMESTAMPS:
        options.tsVal = readUint32(data, i + 2)
        options.tsEcr = readUint32(data, i + 6)
        break
    }
    i += length
  }
  return options
}

/** Fixed lengths of the options decoded here; other kinds only need length >= 2. */
function lengthFits(kind: number, length: number): boolean {
  switch (kind) {
    case OPTION_MSS:
      return length === 4
    case OPTION_WINDOW_SCALE:
      return length === 3
    case OPTION_SACK_PERMITTED:
      return length === 2
    case OPTION_SACK:
      return length >= 10 && (length - 2) % 8 === 0
    case OPTION_TIMESTAMPS:
      return length === 10
    default:
      return true
  }
}
