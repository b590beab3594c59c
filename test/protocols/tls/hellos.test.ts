/**
 * ClientHello / ServerHello parsers and JA3 / JA3S against tshark, field by field, on every
 * TCP hello tshark finds in the public JA4 corpus and the fixtures (test/protocols/tls/vectors.json).
 */
import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {parseClientHello} from '../../../src/protocols/tls/client-hello.js'
import {parseServerHello, HELLO_RETRY_REQUEST_RANDOM} from '../../../src/protocols/tls/server-hello.js'
import {ja3, ja3s} from '../../../src/protocols/tls/ja3.js'
import {EXT_SUPPORTED_VERSIONS} from '../../../src/protocols/tls/iana/extension-types.js'
import {firstMessage} from './feed.js'
import {fromHex, list, nums, vectors} from './vectors.js'

/** Extensions whose contents tshark reports under tls.handshake.sig_hash_alg, in wire order. */
const SIG_HASH_EXTENSIONS = new Set([13, 34, 50])

/** tshark lists the schemes of signature_algorithms, delegated_credential and signature_algorithms_cert in one field: cut out ext 13's. */
function tsharkSignatureAlgorithms(t: Record<string, string>, extensions: number[]): number[] | undefined {
  const lengths = nums(t['tls.handshake.sig_hash_alg_len'])
  const all = nums(t['tls.handshake.sig_hash_alg'])
  let at = 0
  let group = 0
  for (const ext of extensions) {
    if (!SIG_HASH_EXTENSIONS.has(ext)) continue
    const n = lengths[group++]! / 2
    if (ext === 13) return all.slice(at, at + n)
    at += n
  }
  return undefined
}

function orUndefined<T>(present: boolean, value: T): T | undefined {
  return present ? value : undefined
}

describe('ClientHello vs tshark', () => {
  it('covers the corpus', () => {
    expect(vectors.clientHellos.length).toBe(178) // 175 + the three openssl12-cbc-* fixtures (issue 15)
  })

  for (const v of vectors.clientHellos) {
    it(`${v.file} frame ${v.frame}`, () => {
      const t = v.tshark
      const hello = parseClientHello(firstMessage(fromHex(v.hex), 1))
      const ext = nums(t['tls.handshake.extension.type'])
      expect(hello.legacyVersion).toBe(Number(list(t['tls.handshake.version'])[0]))
      expect(hello.random).toBe(t['tls.handshake.random'])
      expect(hello.sessionIdLength).toBe(Number(t['tls.handshake.session_id_length']))
      expect(hello.cipherSuites).toEqual(nums(t['tls.handshake.ciphersuite']))
      expect(hello.compressionMethods).toEqual(nums(t['tls.handshake.comp_method']))
      expect(hello.extensions).toEqual(ext)
      expect(hello.sni).toBe(t['tls.handshake.extensions_server_name'] || undefined)
      const alpn = list(t['tls.handshake.extensions_alpn_str'])
      if (alpn.some((a) => a.includes('\ufffd'))) {
        // tshark prints non-UTF-8 ALPN bytes as U+FFFD; compare the ASCII ones only.
        expect(hello.alpn!.length).toBe(alpn.length)
        alpn.forEach((a, i) => a.includes('\ufffd') || expect(hello.alpn![i]).toBe(a))
      } else {
        expect(hello.alpn).toEqual(orUndefined(ext.includes(16), alpn))
      }
      expect(hello.supportedVersions).toEqual(orUndefined(ext.includes(43), nums(t['tls.handshake.extensions.supported_version'])))
      expect(hello.supportedGroups).toEqual(orUndefined(ext.includes(10), nums(t['tls.handshake.extensions_supported_group'])))
      expect(hello.keyShareGroups).toEqual(orUndefined(ext.includes(51), nums(t['tls.handshake.extensions_key_share_group'])))
      expect(hello.signatureAlgorithms).toEqual(tsharkSignatureAlgorithms(t, ext))
      expect(hello.pskKeyExchangeModes).toEqual(orUndefined(ext.includes(45), nums(t['tls.extension.psk_ke_mode'])))
      expect(hello.ecPointFormats).toEqual(orUndefined(ext.includes(11), nums(t['tls.handshake.extensions_ec_point_format'])))
      expect(hello.offersTls13).toBe(list(t['tls.handshake.extensions.supported_version']).includes('0x0304'))
      const fp = ja3(hello)
      expect(fp.ja3).toBe(t['tls.handshake.ja3_full'])
      expect(fp.ja3Hash).toBe(t['tls.handshake.ja3'])
    })
  }
})

describe('ServerHello vs tshark', () => {
  it('covers the corpus', () => {
    expect(vectors.serverHellos.length).toBe(113) // 110 + the three openssl12-cbc-* fixtures (issue 15)
  })

  for (const v of vectors.serverHellos) {
    it(`${v.file} frame ${v.frame}`, () => {
      const t = v.tshark
      const hello = parseServerHello(firstMessage(fromHex(v.hex), 2))
      const ext = nums(t['tls.handshake.extension.type'])
      expect(hello.legacyVersion).toBe(Number(list(t['tls.handshake.version'])[0]))
      expect(hello.random).toBe(t['tls.handshake.random'])
      expect(hello.cipherSuite).toBe(Number(t['tls.handshake.ciphersuite']))
      expect(hello.extensions).toEqual(ext)
      const selected = nums(t['tls.handshake.extensions.supported_version'])
      expect(hello.version).toBe(ext.includes(EXT_SUPPORTED_VERSIONS) ? selected[0] : hello.legacyVersion)
      // tshark names a HelloRetryRequest's key_share (selected_group only) differently.
      const group = nums(t['tls.handshake.extensions_key_share_group'])[0] ?? nums(t['tls.handshake.extensions_key_share_selected_group'])[0]
      expect(hello.keyShareGroup).toBe(group)
      expect(hello.helloRetryRequest).toBe(t['_ws.col.Info']!.includes('Hello Retry Request'))
      expect(hello.alpn).toBe(t['tls.handshake.extensions_alpn_str'] || undefined)
      const fp = ja3s(hello)
      expect(fp.ja3s).toBe(t['tls.handshake.ja3s_full'])
      expect(fp.ja3sHash).toBe(t['tls.handshake.ja3s'])
    })
  }

  it('finds the six HelloRetryRequests tshark shows (tls-handshake.pcapng and fixtures/tls/hello-retry)', () => {
    const retries = vectors.serverHellos.filter((v) => parseServerHello(firstMessage(fromHex(v.hex), 2)).helloRetryRequest)
    expect(retries.length).toBe(6)
  })

  it('uses SHA-256("HelloRetryRequest") as the HRR random (RFC 8446 §4.1.3)', () => {
    expect(createHash('sha256').update('HelloRetryRequest').digest('hex')).toBe(HELLO_RETRY_REQUEST_RANDOM)
  })
})
