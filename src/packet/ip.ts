/** What both IP decoders hand over: the header, and the transport bytes it announces. */
import type {IpHeader} from './types.js'

/** IANA protocol numbers the driver dispatches on. */
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17

export interface IpLayer {
  header: IpHeader
  /** Transport bytes as captured (a view): Ethernet padding trimmed, shorter when snaplen cut. */
  payload: Uint8Array
  /** Transport length on the wire, from the IP length fields; >= payload.length. */
  payloadLength: number
}
