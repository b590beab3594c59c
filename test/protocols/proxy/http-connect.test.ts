/**
 * The HTTP CONNECT head helpers on the RFC's own examples (each cited) and on the corpus head.
 */
import {describe, expect, it} from 'vitest'
import {challengeSchemes, credentialsScheme, findHeadEnd, parseAuthority, parseConnectRequest, resumeAfterMiss} from '../../../src/protocols/proxy/http-connect.js'
import {STREAMS, bytesOf} from './streams.js'

describe('HTTP CONNECT heads', () => {
  it('names the schemes of a challenge list (RFC 9110 §11.6.1 example)', () => {
    // RFC 9110 §11.6.1: two challenges, "Newauth" with realm, type and title, and "Basic".
    expect(challengeSchemes('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"')).toEqual(['Newauth', 'Basic'])
  })

  it('keeps only the scheme of credentials (RFC 7617 §2 example)', () => {
    // RFC 7617 §2: Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== (Aladdin:open sesame).
    expect(credentialsScheme('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toBe('Basic')
    // A bare value could be the secret itself: never returned.
    expect(credentialsScheme('QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toBe('unknown')
    expect(credentialsScheme('Negotiate')).toBe('Negotiate')
  })

  it('reads authority-form targets (RFC 9112 §3.2.3), IPv6 in brackets (RFC 3986 §3.2.2)', () => {
    expect(parseAuthority('console.example.com:8084')).toEqual({host: 'console.example.com', port: 8084})
    expect(parseAuthority('[2001:db8::1]:8084')).toEqual({host: '2001:db8::1', port: 8084})
    expect(parseAuthority('console.example.com')).toBeUndefined()
    expect(parseAuthority('console.example.com:0')).toBeUndefined()
  })

  it('finds the end of the corpus CONNECT head wherever the scan resumes', () => {
    // https-connect.pcap frame 4: an 84-byte head ending in CRLFCRLF (tshark: tcp.len 84).
    const c2s = bytesOf(STREAMS.find((s) => s.capture === 'corpus/https-connect.pcap')!, 'c2s')
    expect(findHeadEnd(c2s, 0)).toBe(84)
    for (let cut = 1; cut < 84; cut++) {
      const part = c2s.subarray(0, cut)
      expect(findHeadEnd(part, 0), `cut ${cut}`).toBe(-1)
      expect(findHeadEnd(c2s, resumeAfterMiss(cut)), `resume after ${cut}`).toBe(84)
    }
    expect(parseConnectRequest(c2s.subarray(0, 84))).toEqual({target: {host: 'ts01-b.cloudsink.net', port: 443}})
  })

  it('masks userinfo in a malformed request-target', () => {
    const head = Buffer.from('CONNECT u:secret@console:8084 HTTP/1.1\r\n\r\n', 'latin1')
    const request = parseConnectRequest(head)
    expect(request.target).toBeUndefined()
    expect(request.malformed).toContain('***@console:8084')
    expect(request.malformed).not.toContain('secret')
  })
})
