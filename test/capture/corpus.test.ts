/**
 * Every corpus capture and every capture under fixtures/capture/ through our reader, checked
 * against Wireshark's tools (an independent reader).
 */
import {existsSync, readFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {CaptureFormat} from '../../src/capture/types.js'
import {CORPUS_PCAPS, JA4_ABSENT, ROOT, corpusFiles, ja4Corpus} from '../helpers/paths.js'
import {describeWithJa4, skippedBecause} from '../helpers/skip.js'
import {digestOf, epoch, parseBytes} from './collect.js'

/**
 * From `capinfos -T -r -t -E -l -c FILE` (Wireshark 4.0.17): file type, encapsulation
 * (ether = LINKTYPE_ETHERNET 1, null = LINKTYPE_NULL 0), packet size limit (classic pcap
 * snaplen; capinfos shows "(not set)" for pcapng) and number of packets. The counts equal
 * `tshark -r FILE -T fields -e frame.number | wc -l` for every file.
 * Note ipv6.pcapng and http1.pcapng: classic pcap files despite their names.
 */
const CAPINFOS: Array<[file: string, format: CaptureFormat, linkType: number, snaplen: number | undefined, frames: number]> = [
  ['CVE-2018-6794.pcap', 'pcap', 1, 262144, 33],
  ['badcurveball.pcap', 'pcap', 1, 16384, 12],
  ['browsers-x509.pcapng', 'pcapng', 1, undefined, 179],
  ['chrome-cloudflare-quic-with-secrets.pcapng', 'pcapng', 1, undefined, 83],
  ['dhcp.pcapng', 'pcapng', 1, undefined, 4],
  ['dhcpv6.pcap', 'pcap', 1, 2048, 12],
  ['dtls-udp.notest.cap', 'pcap', 1, 65535, 7],
  ['gre-erspan-vxlan.pcap', 'pcap', 1, 65535, 7],
  ['gre-sample.pcap', 'pcap', 1, 1500, 40],
  ['http-empty-useragent.pcap', 'pcap', 0, 262144, 16],
  ['http1-with-cookies.pcapng', 'pcapng', 0, undefined, 12],
  ['http1.pcapng', 'pcap', 1, 262144, 184],
  ['http2-with-cookies.pcapng', 'pcapng', 1, undefined, 1607],
  ['https-connect.pcap', 'pcap', 1, 16384, 18],
  ['https3-301-get.pcap', 'pcap', 1, 65535, 23],
  ['ipv6.pcapng', 'pcap', 0, 262144, 9],
  ['latest.pcapng', 'pcapng', 1, undefined, 209],
  ['macos_tcp_flags.pcap', 'pcap', 1, 65535, 43],
  ['quic-tls-handshake.pcapng', 'pcapng', 1, undefined, 1],
  ['quic-with-several-tls-frames.pcapng', 'pcapng', 1, undefined, 1],
  ['single-packets.pcap', 'pcap', 1, 262144, 9],
  ['socks-https-example.pcap', 'pcap', 1, 65535, 93],
  ['socks4-https.pcap', 'pcap', 1, 8096, 16],
  ['ssh-r.pcap', 'pcap', 1, 262144, 1852],
  ['ssh-scp-1050.pcap', 'pcap', 1, 262144, 1000],
  ['ssh.pcapng', 'pcapng', 1, undefined, 318],
  ['ssh2-malformed.pcap', 'pcap', 1, 65535, 22],
  ['ssh2-moloch-crash.pcap', 'pcap', 1, 65535, 22],
  ['ssh2.pcapng', 'pcapng', 1, undefined, 1391],
  ['sshv1.pcap', 'pcap', 1, 2000, 161],
  ['tcpdump-geneve.pcap', 'pcap', 1, 262144, 39],
  ['tls-alpn-h2.pcap', 'pcap', 0, 262144, 9],
  ['tls-handshake.pcapng', 'pcapng', 1, undefined, 193],
  ['tls-non-ascii-alpn.pcapng', 'pcapng', 1, undefined, 2],
  ['tls-sni.pcapng', 'pcapng', 1, undefined, 84],
  ['tls12.pcap', 'pcap', 1, 262144, 1],
  ['tls3.pcapng', 'pcapng', 1, undefined, 1189],
  ['v6.pcap', 'pcap', 1, 2000, 161],
]

/**
 * First and last frame of a few files, from
 * `tshark -r FILE -T fields -e frame.time_epoch -e frame.len -e frame.cap_len` (first and last line).
 */
const FIRST_LAST: Array<[file: string, first: [string, number, number], last: [string, number, number]]> = [
  ['corpus/tls12.pcap', ['1703606032.925092000', 571, 571], ['1703606032.925092000', 571, 571]],
  ['corpus/sshv1.pcap', ['921159902.141757000', 90, 90], ['921159966.755968000', 78, 78]],
  ['corpus/gre-sample.pcap', ['1055289968.793044000', 122, 122], ['1055289996.921473000', 114, 114]],
  ['corpus/http-empty-useragent.pcap', ['1541428878.195995000', 88, 88], ['1541428878.555842000', 76, 76]],
  ['corpus/tls3.pcapng', ['1692898400.148036000', 164, 164], ['1692898405.060223000', 60, 60]],
  ['corpus/chrome-cloudflare-quic-with-secrets.pcapng', ['1668114405.114955000', 98, 98], ['1668114415.964184000', 86, 86]],
  ['corpus/dhcp.pcapng', ['1102274184.317453000', 314, 314], ['1102274184.387798000', 342, 342]],
  ['fixtures/capture/nanosecond/capture.pcap', ['1795307790.818342669', 74, 74], ['1795307790.818653288', 66, 66]],
  ['fixtures/capture/dsb/capture.pcapng', ['1795307765.714843000', 74, 74], ['1795307765.717163000', 66, 66]],
]

/** Per-file digests of what tshark reads; see tshark-digests.py for how they were made. */
const TSHARK_DIGESTS = JSON.parse(readFileSync(join(ROOT, 'test', 'capture', 'tshark-digests.json'), 'utf8')) as Record<
  string,
  ReturnType<typeof digestOf>
>

/** Fixture entries always run; corpus/ entries only when the JA4 corpus is there. */
const runnable = (name: string): boolean => ja4Corpus() !== undefined || !name.startsWith('corpus/')

function pathOf(name: string): string {
  return name.startsWith('corpus/') ? join(CORPUS_PCAPS, name.slice('corpus/'.length)) : join(ROOT, name)
}

describeWithJa4('corpus captures vs capinfos', () => {
  it('the table covers every corpus file', () => {
    expect(CAPINFOS.map(([file]) => file)).toEqual(corpusFiles().map((path) => basename(path)))
  })

  it.each(CAPINFOS)('%s: %s, link type %i, snaplen %s, %i frames', (file, format, linkType, snaplen, frames) => {
    const {summary} = parseBytes(readFileSync(join(CORPUS_PCAPS, file)))
    expect(summary.format).toBe(format)
    expect(summary.frames).toBe(frames)
    expect(summary.linkTypes).toEqual([linkType])
    expect(summary.byteOrder).toBe('le')
    expect(summary.gzip).toBe(false)
    expect(summary.truncatedTail).toBeUndefined()
    if (snaplen !== undefined) expect(summary.snaplen).toBe(snaplen)
  })
})

describe('every frame vs tshark (count, times, lengths, SHA-256 of all captured bytes)', () => {
  if (!ja4Corpus()) skippedBecause('the corpus/ entries', JA4_ABSENT)
  it.each(Object.keys(TSHARK_DIGESTS).filter(runnable))('%s', (name) => {
    const {frames} = parseBytes(readFileSync(pathOf(name)))
    expect(digestOf(frames)).toEqual(TSHARK_DIGESTS[name])
    expect(frames.map((frame) => frame.index)).toEqual(frames.map((_, i) => i + 1))
  })

  it('covers every corpus file and every fixtures/capture capture', () => {
    const names = Object.keys(TSHARK_DIGESTS)
    // CAPINFOS is matched against the corpus directory in the capinfos suite.
    expect(names.filter((name) => name.startsWith('corpus/')).length).toBe(CAPINFOS.length)
    for (const fixture of ['fixtures/capture/nanosecond/capture.pcap', 'fixtures/capture/dsb/capture.pcapng']) {
      expect(existsSync(join(ROOT, fixture))).toBe(true)
      expect(names).toContain(fixture)
    }
  })
})

describe('first and last frames vs tshark', () => {
  if (!ja4Corpus()) skippedBecause('the corpus/ entries', JA4_ABSENT)
  it.each(FIRST_LAST.filter(([name]) => runnable(name)))('%s', (name, first, last) => {
    const {frames} = parseBytes(readFileSync(pathOf(name)))
    const row = (i: number): [string, number, number] => [epoch(frames[i]!), frames[i]!.origLen, frames[i]!.data.length]
    expect(row(0)).toEqual(first)
    expect(row(frames.length - 1)).toEqual(last)
  })
})
