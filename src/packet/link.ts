/**
 * Link-layer decoders: each reads its header and names its payload by EtherType, so the driver
 * has one switch for what comes next whatever the link was. Link types are the LINKTYPE_*
 * values of https://www.tcpdump.org/linktypes.html.
 */
import {noteIssue, type DecodeFeedback} from './feedback.js'

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_IPV6 = 0x86dd
/** IEEE 802.1Q C-tag. */
export const ETHERTYPE_VLAN = 0x8100
/** IEEE 802.1ad S-tag (QinQ). */
export const ETHERTYPE_QINQ = 0x88a8
/** Pre-standard QinQ S-tag still emitted by some switches. */
export const ETHERTYPE_QINQ_LEGACY = 0x9100
/** Transparent Ethernet bridging: the payload is an Ethernet frame (GENEVE, NVGRE). */
export const ETHERTYPE_TEB = 0x6558

export const LINKTYPE_NULL = 0
export const LINKTYPE_ETHERNET = 1
/** DLT_RAW on BSD/OS and some others: raw IP. */
export const LINKTYPE_RAW_12 = 12
/** DLT_RAW on OpenBSD: raw IP. */
export const LINKTYPE_RAW_14 = 14
export const LINKTYPE_RAW = 101
export const LINKTYPE_LOOP = 108
export const LINKTYPE_LINUX_SLL = 113
export const LINKTYPE_IPV4 = 228
export const LINKTYPE_IPV6 = 229
export const LINKTYPE_LINUX_SLL2 = 276

export interface LinkLayer {
  /** EtherType of `payload` (raw-IP and NULL/LOOP links are mapped to the IP EtherTypes). */
  etherType: number
  payload: Uint8Array
  /** 802.1Q / 802.1ad VLAN ids, outermost first, when the frame was tagged. */
  vlanIds?: number[]
}

/**
 * Decodes the link header of a frame of `linkType`. Undefined when the header is cut short
 * (feedback.truncated is set) or the link type is unknown (a 'link.unsupported' Issue).
 */
export function decodeLink(linkType: number, data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return decodeEthernet(data, feedback)
    case LINKTYPE_LINUX_SLL:
      return decodeLinuxSll(data, feedback)
    case LINKTYPE_LINUX_SLL2:
      return decodeLinuxSll2(data, feedback)
    case LINKTYPE_NULL:
      return decodeNull(data, feedback)
    case LINKTYPE_LOOP:
      return decodeLoop(data, feedback)
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
      return decodeRawIp(data, feedback)
    case LINKTYPE_IPV4:
      return {etherType: ETHERTYPE_IPV4, payload: data}
    case LINKTYPE_IPV6:
      return {etherType: ETHERTYPE_IPV6, payload: data}
    default:
      noteIssue(feedback, 'link.unsupported', `link type ${linkType} is not supported; frame not decoded`)
      return undefined
  }
}

function readUint16(data: Uint8Array, offset: number): number {
  return (data[offset]! << 8) | data[offset + 1]!
}

function isVlanTag(etherType: number): boolean {
  return etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_LEGACY
}

/**
 * Skips 802.1Q / 802.1ad tags (4 bytes each: TCI then the inner EtherType) that start at
 * `offset`, the header's EtherType being `etherType`.
 */
function skipVlanTags(data: Uint8Array, offset: number, etherType: number, feedback: DecodeFeedback): LinkLayer | undefined {
  let vlanIds: number[] | undefined
  while (isVlanTag(etherType)) {
    if (data.length < offset + 4) {
      feedback.truncated = true
      return undefined
    }
    ;(vlanIds ??= []).push(readUint16(data, offset) & 0x0fff)
    etherType = readUint16(data, offset + 2)
    offset += 4
  }
  const link: LinkLayer = {etherType, payload: data.subarray(offset)}
  if (vlanIds) link.vlanIds = vlanIds
  return link
}

/** Ethernet II (IEEE 802.3 with an EtherType): dst MAC, src MAC, EtherType, then VLAN tags. */
export function decodeEthernet(data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  if (data.length < 14) {
    feedback.truncated = true
    return undefined
  }
  return skipVlanTags(data, 14, readUint16(data, 12), feedback)
}

/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL, https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html):
 * packet type, ARPHRD type, address length, 8 address bytes, protocol (an EtherType for the
 * link types that carry IP).
 */
export function decodeLinuxSll(data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  if (data.length < 16) {
    feedback.truncated = true
    return undefined
  }
  return skipVlanTags(data, 16, readUint16(data, 14), feedback)
}

/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, what `tcpdump -i any` writes since libpcap 1.10,
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html): protocol first, then reserved,
 * interface index, ARPHRD type, packet type, address length and 8 address bytes.
 */
export function decodeLinuxSll2(data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  if (data.length < 20) {
    feedback.truncated = true
    return undefined
  }
  return skipVlanTags(data, 20, readUint16(data, 0), feedback)
}

/** BSD address-family values that mean IPv6 (NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30). */
function etherTypeOfAddressFamily(family: number): number | undefined {
  if (family === 2) return ETHERTYPE_IPV4
  if (family === 24 || family === 28 || family === 30) return ETHERTYPE_IPV6
  return undefined
}

/**
 * BSD loopback (LINKTYPE_NULL): a 4-byte address family in the byte order of the host that
 * wrote the file, which the file does not record. AF values are small, so the order whose
 * value fits in 16 bits is the right one.
 */
export function decodeNull(data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  if (data.length < 4) {
    feedback.truncated = true
    return undefined
  }
  let family = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0
  if (family > 0xffff) family = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
  return addressFamilyLink(family, data.subarray(4), feedback)
}

/** OpenBSD loopback (LINKTYPE_LOOP): like NULL but the family is in network byte order. */
export function decodeLoop(data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  if (data.length < 4) {
    feedback.truncated = true
    return undefined
  }
  const family = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
  return addressFamilyLink(family, data.subarray(4), feedback)
}

function addressFamilyLink(family: number, payload: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  const etherType = etherTypeOfAddressFamily(family)
  if (etherType === undefined) {
    noteIssue(feedback, 'link.unsupported', `loopback address family ${family} is not IPv4 or IPv6`)
    return undefined
  }
  return {etherType, payload}
}

/** Raw IP (LINKTYPE_RAW and the historic 12, 14): the version nibble says v4 or v6. */
export function decodeRawIp(data: Uint8Array, feedback: DecodeFeedback): LinkLayer | undefined {
  if (data.length < 1) {
    feedback.truncated = true
    return undefined
  }
  const version = data[0]! >> 4
  if (version === 4) return {etherType: ETHERTYPE_IPV4, payload: data}
  if (version === 6) return {etherType: ETHERTYPE_IPV6, payload: data}
  noteIssue(feedback, 'ip.bad-version', `raw IP packet with version ${version}`)
  return undefined
}
