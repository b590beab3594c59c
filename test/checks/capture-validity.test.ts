/**
 * Issue 18 item 4, capture half, on real captures (fixtures/tls/expired: TLS 1.2; expired13: TLS
 * 1.3 read with its key log): openssl s_server presented fixtures/certs/expired-server.pem
 * (notAfter 2021-01-01T00:00:00Z) on 2026-11-22, so tls.certificate says how long before the
 * capture it expired, computed here from the capture's own time, and that a wrong clock is one cause.
 */
import {describe, expect, it} from 'vitest'
import type {AnalysisReport} from '../../src/model/report.js'
import {runCli} from '../helpers/cli.js'

const NOT_AFTER = '2021-01-01T00:00:00.000Z'

describe('tls.certificate: expired at capture time, by how much', () => {
  for (const [fixture, extra] of [['expired', []], ['expired13', ['--keylog', 'fixtures/tls/expired13/keys.log']]] as const) {
    it(`fixtures/tls/${fixture}`, () => {
      const run = runCli(['analyze', `fixtures/tls/${fixture}/capture.pcap`, '--console', 'console.test', '--ca', 'fixtures/certs/console-ca.pem', ...extra, '--json'])
      const report = JSON.parse(run.stdout) as AnalysisReport
      const connection = report.connections[0]
      const check = connection.checks.find((c) => c.id === 'tls.certificate')!
      expect(check).toMatchObject({status: 'fail', confidence: 'observed'})
      // Whole days (and hours) between notAfter and the capture (the connection's start, within a second of the Certificate).
      const span = Date.parse(connection.startedAt) - Date.parse(NOT_AFTER)
      const days = Math.floor(span / 86_400_000)
      const hours = Math.floor((span % 86_400_000) / 3_600_000)
      expect(check.summary).toContain(`expired ${days} days${hours > 0 ? ` ${hours} h` : ''} before capture time (notAfter ${NOT_AFTER})`)
      expect(check.hint).toContain('a wrong clock on either side is one cause')
    })
  }
})
