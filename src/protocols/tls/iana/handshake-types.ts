/** HandshakeType, IANA "TLS HandshakeType" registry (RFC 8446 §4, RFC 5246 §7.4). */
import {ianaTable} from './table.js'

export const HS_HELLO_REQUEST = 0
export const HS_CLIENT_HELLO = 1
export const HS_SERVER_HELLO = 2
export const HS_NEW_SESSION_TICKET = 4
export const HS_END_OF_EARLY_DATA = 5
export const HS_ENCRYPTED_EXTENSIONS = 8
export const HS_CERTIFICATE = 11
export const HS_SERVER_KEY_EXCHANGE = 12
export const HS_CERTIFICATE_REQUEST = 13
export const HS_SERVER_HELLO_DONE = 14
export const HS_CERTIFICATE_VERIFY = 15
export const HS_CLIENT_KEY_EXCHANGE = 16
export const HS_FINISHED = 20
export const HS_KEY_UPDATE = 24

export const HANDSHAKE_TYPES = ianaTable([
  [0, 'hello_request'],
  [1, 'client_hello'],
  [2, 'server_hello'],
  [3, 'hello_verify_request'],
  [4, 'new_session_ticket'],
  [5, 'end_of_early_data'],
  [6, 'hello_retry_request'],
  [8, 'encrypted_extensions'],
  [9, 'request_connection_id'],
  [10, 'new_connection_id'],
  [11, 'certificate'],
  [12, 'server_key_exchange'],
  [13, 'certificate_request'],
  [14, 'server_hello_done'],
  [15, 'certificate_verify'],
  [16, 'client_key_exchange'],
  [17, 'client_certificate_request'],
  [20, 'finished'],
  [21, 'certificate_url'],
  [22, 'certificate_status'],
  [23, 'supplemental_data'],
  [24, 'key_update'],
  [25, 'compressed_certificate'],
  [26, 'ekt_key'],
  [254, 'message_hash'],
])
