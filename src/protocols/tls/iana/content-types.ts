/** TLS ContentType, IANA "TLS ContentType" registry (RFC 8446 §5.1, RFC 6520 for heartbeat). */
import {ianaTable} from './table.js'

export const CONTENT_CHANGE_CIPHER_SPEC = 20
export const CONTENT_ALERT = 21
export const CONTENT_HANDSHAKE = 22
export const CONTENT_APPLICATION_DATA = 23
export const CONTENT_HEARTBEAT = 24

export const CONTENT_TYPES = ianaTable([
  [20, 'change_cipher_spec'],
  [21, 'alert'],
  [22, 'handshake'],
  [23, 'application_data'],
  [24, 'heartbeat'],
])
