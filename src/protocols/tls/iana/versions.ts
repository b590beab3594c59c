/** Protocol versions as they appear on the wire (RFC 8446 §4.2.1, RFC 6347 for DTLS). */
import {ianaTable} from './table.js'

export const TLS_1_0 = 0x0301
export const TLS_1_1 = 0x0302
export const TLS_1_2 = 0x0303
export const TLS_1_3 = 0x0304

export const VERSIONS = ianaTable([
  [0x0002, 'SSL 2.0'],
  [0x0300, 'SSL 3.0'],
  [0x0301, 'TLS 1.0'],
  [0x0302, 'TLS 1.1'],
  [0x0303, 'TLS 1.2'],
  [0x0304, 'TLS 1.3'],
  [0xfeff, 'DTLS 1.0'],
  [0xfefd, 'DTLS 1.2'],
  [0xfefc, 'DTLS 1.3'],
])
