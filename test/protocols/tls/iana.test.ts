/** IANA tables: names as the registries spell them (values cited from the RFCs named). */
import {describe, expect, it} from 'vitest'
import {ALERT_DESCRIPTIONS} from '../../../src/protocols/tls/iana/alerts.js'
import {CIPHER_SUITES} from '../../../src/protocols/tls/iana/cipher-suites.js'
import {EXTENSION_TYPES} from '../../../src/protocols/tls/iana/extension-types.js'
import {HANDSHAKE_TYPES} from '../../../src/protocols/tls/iana/handshake-types.js'
import {NAMED_GROUPS} from '../../../src/protocols/tls/iana/named-groups.js'
import {SIGNATURE_SCHEMES} from '../../../src/protocols/tls/iana/signature-schemes.js'
import {nameOf} from '../../../src/protocols/tls/iana/table.js'
import {VERSIONS} from '../../../src/protocols/tls/iana/versions.js'

describe('IANA names', () => {
  it.each([
    [CIPHER_SUITES, 0x1301, 'TLS_AES_128_GCM_SHA256'], // RFC 8446 §B.4
    [CIPHER_SUITES, 0x1303, 'TLS_CHACHA20_POLY1305_SHA256'], // RFC 8446 §B.4
    [CIPHER_SUITES, 0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'], // RFC 5289 §3.2
    [CIPHER_SUITES, 0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'], // RFC 7905 §2
    [CIPHER_SUITES, 0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'], // RFC 5246 §A.5
    [CIPHER_SUITES, 0x5600, 'TLS_FALLBACK_SCSV'], // RFC 7507 §2
    [NAMED_GROUPS, 0x001d, 'x25519'], // RFC 8446 §4.2.7
    [NAMED_GROUPS, 0x0017, 'secp256r1'], // RFC 8446 §4.2.7
    [NAMED_GROUPS, 0x11ec, 'X25519MLKEM768'], // draft-ietf-tls-ecdhe-mlkem / IANA
    [SIGNATURE_SCHEMES, 0x0403, 'ecdsa_secp256r1_sha256'], // RFC 8446 §4.2.3
    [SIGNATURE_SCHEMES, 0x0804, 'rsa_pss_rsae_sha256'], // RFC 8446 §4.2.3
    [ALERT_DESCRIPTIONS, 116, 'certificate_required'], // RFC 8446 §6
    [ALERT_DESCRIPTIONS, 42, 'bad_certificate'], // RFC 8446 §6
    [EXTENSION_TYPES, 43, 'supported_versions'], // RFC 8446 §4.2
    [EXTENSION_TYPES, 16, 'application_layer_protocol_negotiation'], // RFC 7301 §3.1
    [HANDSHAKE_TYPES, 13, 'certificate_request'], // RFC 8446 §4
    [VERSIONS, 0x0304, 'TLS 1.3'],
  ] as const)('%#: 0x%s', (table, value, name) => {
    expect(nameOf(table, value)).toBe(name)
  })

  it('renders unknown values as 0xHHHH', () => {
    expect(nameOf(CIPHER_SUITES, 0xabcd)).toBe('0xabcd')
    expect(nameOf(ALERT_DESCRIPTIONS, 7)).toBe('0x0007')
  })
})
