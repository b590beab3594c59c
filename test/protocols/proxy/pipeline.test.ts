/**
 * The proxy captures through the real pipeline (capture reader → decodePacket → ConnectionTracker
 * → ProxyPreambleReader → TlsConnectionReader), wired as the analyzer will wire it: the frame
 * numbers in the facts are tshark's, and proxy.connect gives the verdicts the scenarios state.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {ConnectionFacts} from '../../../src/model/facts.js'
import {withDerivedFacts, type AssembledFacts} from '../../../src/analysis/derive.js'
import {readCapture} from '../../../src/capture/index.js'
import {checkProxyConnect} from '../../../src/checks/proxy-connect.js'
import type {Policy} from '../../../src/model/policy.js'
import {decodePacket} from '../../../src/packet/packet.js'
import {ProxyPreambleReader} from '../../../src/protocols/proxy/preamble.js'
import type {ProxyFacts} from '../../../src/protocols/proxy/types.js'
import {TlsConnectionReader} from '../../../src/protocols/tls/connection.js'
import {ConnectionTracker} from '../../../src/stream/tracker.js'
import {CORPUS_PCAPS, FIXTURES} from '../../helpers/paths.js'
import {itWithJa4, presentFiles} from '../../helpers/skip.js'
import {STREAMS, expectedFromTshark} from './streams.js'

interface Analysed {
  client: string
  facts: ConnectionFacts & {proxy?: ProxyFacts}
}

async function analyse(file: string, proxyPort: number): Promise<Analysed[]> {
  const readers = new Map<number, {proxy: ProxyPreambleReader; tls: TlsConnectionReader}>()
  const tracker = new ConnectionTracker({
    isServerPort: (port) => port === proxyPort,
    onConnection: (tracked) => {
      const tls = new TlsConnectionReader()
      const proxy = new ProxyPreambleReader(tls, {fromOpening: () => tracked.tcp.syn !== undefined || tracked.tcp.synAck !== undefined})
      readers.set(tracked.id, {proxy, tls})
      return proxy
    },
  })
  await readCapture(file, {
    frame: (raw) => {
      const packet = decodePacket(raw)
      if (packet.tcp && packet.ip) tracker.push(packet)
    },
  })
  return tracker.finish().map((conn) => {
    const {proxy, tls} = readers.get(conn.id)!
    const facts: AssembledFacts & {proxy?: ProxyFacts} = {
      id: conn.id,
      client: conn.client,
      server: conn.server,
      startedAt: new Date(conn.tcp.startTs * 1000).toISOString(),
      endedAt: new Date(conn.tcp.endTs * 1000).toISOString(),
      tcp: conn.tcp,
      tls: tls.facts(),
      issues: conn.issues,
    }
    const proxyFacts = proxy.facts()
    if (proxyFacts) facts.proxy = proxyFacts
    return {client: `${conn.client.ip}:${conn.client.port}`, facts: withDerivedFacts(facts)}
  })
}

function policy(ports: number[]): Policy {
  return {ports, minTls: '1.3'}
}

const CAPTURES = presentFiles([
  {name: 'corpus/https-connect.pcap', file: join(CORPUS_PCAPS, 'https-connect.pcap'), proxyPort: 8080},
  {name: 'corpus/socks-https-example.pcap', file: join(CORPUS_PCAPS, 'socks-https-example.pcap'), proxyPort: 1080},
  {name: 'corpus/socks4-https.pcap', file: join(CORPUS_PCAPS, 'socks4-https.pcap'), proxyPort: 9901},
  {name: 'fixtures/proxy/http-connect-407/capture.pcap', file: join(FIXTURES, 'proxy', 'http-connect-407', 'capture.pcap'), proxyPort: 3128},
])

describe.each(CAPTURES)('$name through the pipeline', ({name, file, proxyPort}) => {
  const entries = STREAMS.filter((s) => s.capture === name)

  it('has the frames tshark reports for the proxy messages and the ClientHello', async () => {
    const analysed = await analyse(file, proxyPort)
    expect(analysed.map((a) => a.client)).toEqual(entries.map((e) => e.client))
    for (const [i, entry] of entries.entries()) {
      const want = expectedFromTshark(entry)
      const {proxy, tls} = analysed[i]!.facts
      expect(proxy?.request.frame).toBe(want.requestFrame)
      expect(proxy?.response?.frame).toBe(want.response.frame)
      expect(proxy?.target).toEqual(want.target)
      if (entry.tls.clientHello) {
        expect(tls?.clientHellos[0]?.frame).toBe(entry.tls.clientHello.frame)
        expect(tls?.clientHellos[0]?.sni).toBe(entry.tls.clientHello.sni ?? undefined)
      }
      if (entry.tls.serverHello) expect(tls?.serverHello?.frame).toBe(entry.tls.serverHello.frame)
      if (!want.tunnelOpened) expect(tls?.clientHellos).toEqual([])
    }
  })
})

describe('proxy.connect on the captured connections', () => {
  itWithJa4('passes a tunnel to a Console port and warns when the tunnel goes to another port (https-connect.pcap)', async () => {
    const [conn] = await analyse(join(CORPUS_PCAPS, 'https-connect.pcap'), 8080)
    const pass = checkProxyConnect(conn!.facts, policy([8080, 443]))
    expect(pass.status).toBe('pass')
    // tshark: frame 4 "CONNECT ts01-b.cloudsink.net:443 HTTP/1.0", frame 6 "HTTP/1.0 200 OK".
    expect(pass.summary).toBe('HTTP CONNECT ts01-b.cloudsink.net:443 through the proxy answered 200 OK (frame 6)')
    expect(pass.evidence.frames).toEqual([4, 6])
    const warn = checkProxyConnect(conn!.facts, policy([8084]))
    expect(warn.status).toBe('warn')
    expect(warn.summary).toContain('port 443 is not a Console port (8084)')
  })

  itWithJa4('passes the three SOCKS connections of socks-https-example.pcap', async () => {
    const results = (await analyse(join(CORPUS_PCAPS, 'socks-https-example.pcap'), 1080)).map((c) => checkProxyConnect(c.facts, policy([1080, 443])))
    expect(results.map((r) => [r.status, r.summary])).toEqual([
      ['pass', 'SOCKS4 CONNECT 93.184.216.119:443 through the proxy answered request granted (CD 90) (frame 6)'],
      ['pass', 'SOCKS4a CONNECT www.example.com:443 through the proxy answered request granted (CD 90) (frame 36)'],
      ['pass', 'SOCKS5 CONNECT 93.184.216.119:443 through the proxy answered succeeded (REP 0) (frame 69)'],
    ])
  })

  it('fails the 407 with the credentials hint and passes the authenticated tunnel (fixture http-connect-407)', async () => {
    const [refused, opened] = await analyse(join(FIXTURES, 'proxy', 'http-connect-407', 'capture.pcap'), 3128)
    const fail = checkProxyConnect(refused!.facts, policy([3128, 8084]))
    expect(fail.status).toBe('fail')
    expect(fail.summary).toBe('HTTP CONNECT console.test:8084 refused by the proxy: 407 Proxy Authentication Required (frame 6)')
    expect(fail.hint).toBe("the proxy wants credentials (it offers Basic) and the Defender sent none: configure the Defender's proxy user and password")
    expect(refused!.facts.proxy?.authentication).toEqual({offered: ['Basic'], accepted: false})

    const pass = checkProxyConnect(opened!.facts, policy([3128, 8084]))
    expect(pass.status).toBe('pass')
    expect(pass.summary).toBe('HTTP CONNECT console.test:8084 through the proxy answered 200 Connection established (frame 16)')
    expect(opened!.facts.proxy?.authentication).toEqual({scheme: 'Basic', offered: [], accepted: true})

    const json = JSON.stringify([refused!.facts.proxy, opened!.facts.proxy, fail, pass])
    expect(json).not.toContain(Buffer.from('u:p').toString('base64'))
  })

  it('skips a direct TLS connection, whose bytes all reach the TLS reader (fixture tcp/tls13-lo)', async () => {
    const [direct] = await analyse(join(FIXTURES, 'tcp', 'tls13-lo', 'tls13-lo.pcap'), 8084)
    expect(direct!.facts.proxy).toBeUndefined()
    // tshark -r tls13-lo.pcap -Y tls.handshake.type==1: frame 4, SNI console.test.
    expect(direct!.facts.tls?.clientHellos[0]?.frame).toBe(4)
    const skipped = checkProxyConnect(direct!.facts, policy([8084]))
    expect(skipped.status).toBe('skip')
    expect(skipped.summary).toBe('no proxy in front of the connection')
  })
})
