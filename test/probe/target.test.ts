import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {parseProbeTarget} from '../../src/probe/target.js'

describe('parseProbeTarget', () => {
  it('reads a wss URL with port and path', () => {
    expect(parseProbeTarget('wss://console.example.com:8084/api/ws?x=1')).toEqual({
      url: 'wss://console.example.com:8084/api/ws?x=1',
      host: 'console.example.com',
      port: 8084,
      path: '/api/ws?x=1',
      servername: 'console.example.com',
    })
  })

  it('a wss URL without a port is 443 (the URL default, the SaaS port)', () => {
    expect(parseProbeTarget('wss://tenant.cloud.example/').port).toBe(443)
  })

  it('a bare host means wss on 8084; host:port keeps the port', () => {
    expect(parseProbeTarget('console.example.com')).toMatchObject({url: 'wss://console.example.com:8084/', port: 8084, path: '/'})
    expect(parseProbeTarget('console.example.com:9443').port).toBe(9443)
    expect(parseProbeTarget('console.example.com:443').port).toBe(443)
  })

  it('IP literals get no SNI unless --servername names one', () => {
    expect(parseProbeTarget('127.0.0.1').servername).toBeUndefined()
    expect(parseProbeTarget('[2001:db8::1]:8084')).toMatchObject({host: '2001:db8::1', port: 8084})
    expect(parseProbeTarget('2001:db8::1')).toMatchObject({host: '2001:db8::1', port: 8084})
    expect(parseProbeTarget('wss://127.0.0.1:8084/', 'console.test').servername).toBe('console.test')
  })

  it('refuses what is not a wss target', () => {
    expect(() => parseProbeTarget('ws://console:8084/')).toThrow(/use wss/)
    expect(() => parseProbeTarget('https://console:8084/')).toThrow(UsageError)
    expect(() => parseProbeTarget('')).toThrow(UsageError)
    expect(() => parseProbeTarget('wss://user:pw@console/')).toThrow(/credentials/)
  })
})
