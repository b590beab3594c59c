/**
 * Issue 16 item 2: a pcapng timestamp of 9.2e12 s (found by the fuzzer, --replay 73:1880207268:53)
 * made `new Date(ts * 1000).toISOString()` throw "Invalid time value" while judging the server
 * certificate. Capture times are printed by the one formatter (src/time.ts); a time outside
 * years 0000-9999 is an issue on the capture and the certificate's validity is not judged by it.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {describe, expect, it} from 'vitest'
import {Analyzer} from '../../src/analysis/analyzer.js'
import {evaluateServerCertificate} from '../../src/analysis/cert-policy.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import {createCaptureParser} from '../../src/capture/parser.js'
import {parseCertificate} from '../../src/protocols/tls/x509.js'
import {renderJson} from '../../src/report/json.js'
import {validateReport} from '../../src/report/schema.js'
import {isCaptureTimeInRange, isoTime} from '../../src/time.js'
import {ROOT} from '../helpers/paths.js'

const REPRO = resolve(ROOT, '..', 'shared', 'repro', 'reliability', 'fuzz-invalid-time.pcapng')
const LEAF = parseCertificate(readFileSync(join(ROOT, 'test', 'analysis', 'certs', 'corpus-browsers-x509-44-0.der')))

describe('capture times outside years 0000-9999', () => {
  it('isoTime never throws; isCaptureTimeInRange tells usable times', () => {
    for (const s of [9.2e12, -9.2e12, Number.NaN, Number.POSITIVE_INFINITY, 1e300]) {
      expect(isCaptureTimeInRange(s)).toBe(false)
      expect(() => isoTime(s)).not.toThrow()
    }
    expect(isCaptureTimeInRange(1_768_471_200)).toBe(true)
  })

  it('a certificate seen at 9.2e12 s is not judged by that time (and nothing throws)', () => {
    const verdict = evaluateServerCertificate([LEAF], {at: new Date(9.2e15)})
    expect(verdict.captureTimeOutOfRange).toBe(true)
    expect(verdict).toMatchObject({validAtCapture: false, expired: false, notYetValid: false, at: '1970-01-01T00:00:00.000Z'})
  })

  it.runIf(existsSync(REPRO))('the fuzzer finding: a report, the issue on the capture, tls.certificate inconclusive (warn)', () => {
    const analyzer = new Analyzer({policy: buildPolicy({ports: ['any']})})
    const parser = createCaptureParser(analyzer.sink)
    parser.push(readFileSync(REPRO))
    const report = analyzer.finish({kind: 'file', name: 'fuzz-invalid-time.pcapng', capture: parser.end()})
    expect(validateReport(JSON.parse(renderJson(report)))).toEqual([])
    expect(report.source.issues.find((i) => i.code === 'capture.time-out-of-range')?.frame).toBe(19)
    const judged = report.connections.flatMap((c) => c.checks).filter((c) => c.id === 'tls.certificate' && /validity was not judged/.test(c.summary))
    expect(judged.map((c) => c.status)).toEqual(['warn'])
  })
  if (!existsSync(REPRO)) console.log(`capture-time-range: ${REPRO} absent, the fuzzer-finding case is not run`)
})
