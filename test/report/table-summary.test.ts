/**
 * Big captures: above SUMMARY_THRESHOLD connections the table summarises (verdict counts, TLS
 * handshakes, failing checks with how many connections they hit) and prints the worst
 * WORST_SHOWN connections only; `all` prints every block.
 */
import {describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import type {TlsFacts} from '../../src/protocols/tls/types.js'
import {renderTable, SUMMARY_THRESHOLD, WORST_SHOWN} from '../../src/report/table.js'
import {sampleReport} from './sample-report.js'

/**
 * 25 connections: the sample's TLS connection (cert FAIL, alerts WARN) 12 times, its refused one
 * 13 times. The sample's TLS facts are hand-picked without hellos; here the TLS connection gets
 * one ClientHello and a TLS 1.3 ServerHello (their contents do not matter to the counts).
 */
function bigReport(): AnalysisReport {
  const report = sampleReport()
  const [tls, refused] = report.connections
  const facts = tls!.facts as ConnectionFacts
  const hello = {} as TlsFacts['clientHellos'][number]
  tls!.facts = {...facts, tls: {...facts.tls!, clientHellos: [hello], serverHello: {} as TlsFacts['serverHello'], version: 0x0304}}
  report.connections = Array.from({length: 25}, (_, i) => ({...(i % 2 === 0 ? refused! : tls!), id: i + 1}))
  return report
}

const blocks = (text: string) => text.split('\n').filter((line) => /^#\d+ /.test(line))

describe('renderTable on a big capture', () => {
  const text = renderTable(bigReport(), {color: false, width: 100})

  it('counts connections per verdict and the TLS handshakes', () => {
    expect(SUMMARY_THRESHOLD).toBeLessThan(25)
    expect(text).toContain('25 connections to the Console: 0 pass, 0 warn, 25 fail (verdict per connection)')
    expect(text).toContain('TLS handshakes: 12 ClientHello, 12 ServerHello in 12 TLS connections (12 negotiated TLS 1.3)')
  })

  it('lists each failing or warning check with the connections it hit, failures first', () => {
    const lines = text.split('\n')
    const at = (prefix: string) => lines.findIndex((line) => line.startsWith(prefix))
    expect(at('  FAIL tcp.syn-ack: 13 connections, e.g. #1:')).toBeGreaterThan(0)
    expect(at('  FAIL tcp.ack: 13 connections, e.g. #1:')).toBeGreaterThan(0)
    expect(at('  FAIL tls.certificate: 12 connections, e.g. #2:')).toBeGreaterThan(0)
    expect(at('  WARN tls.alerts: 12 connections, e.g. #2:')).toBeGreaterThan(at('  FAIL tls.certificate'))
  })

  it('prints the worst connections only: most failed checks first', () => {
    const titles = blocks(text)
    expect(titles).toHaveLength(WORST_SHOWN)
    // The refused connections fail two checks, the TLS ones one: odd ids (refused) come first.
    expect(titles.map((line) => Number(/^#(\d+)/.exec(line)![1]))).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19])
    expect(text).toContain('the 10 worst connections follow (15 more failed or warned)')
  })

  it('prints every connection with all', () => {
    const full = renderTable(bigReport(), {color: false, width: 100, all: true})
    expect(blocks(full)).toHaveLength(25)
    expect(full).not.toContain('connections to the Console:')
  })
})
