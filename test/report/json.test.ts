import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {CHECK_IDS, DEFENDER_CHECK_IDS, PROBE_CHECK_IDS} from '../../src/model/checks.js'
import {renderJson, stringifyWithoutDer, withoutDer} from '../../src/report/json.js'
import {validateReport} from '../../src/report/schema.js'
import {CURVEBALL_CERTIFICATE, noTrafficReport, sampleReport} from './sample-report.js'

const schema = JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'))

describe('renderJson', () => {
  const report = sampleReport()
  const text = renderJson(report)
  const parsed = JSON.parse(text)

  it('is the report with a 2-space indent', () => {
    expect(text.split('\n').slice(0, 3)).toEqual(['{', '  "schemaVersion": 1,', '  "tool": {'])
    expect(parsed.summary).toEqual({connections: 2, pass: 5, fail: 3, warn: 1, skip: 1, verdict: 'fail'})
    expect(parsed.connections[1].checks[1].summary).toBe('connection refused: server answered the SYN with RST (frame 2)')
  })

  it('drops every derBase64 but keeps the certificate facts', () => {
    expect(text).not.toContain('derBase64')
    expect(text).not.toContain(CURVEBALL_CERTIFICATE.derBase64.slice(0, 40))
    const certificate = parsed.connections[0].facts.tls.serverCertificate.certificates[0]
    expect(certificate.sha256).toBe('37a074a3c248aef1f27cbd26093f3364765bb01a97e8b3f387f5bf0cd7b4e1b4')
    expect(certificate.sans).toEqual(['bad.curveballtest.com'])
    // The report itself is not changed: analysis still has the DER.
    expect(report.connections[0].facts.tls?.serverCertificate?.certificates[0].derBase64).toBe(CURVEBALL_CERTIFICATE.derBase64)
  })

  it('validates against schema/report.schema.json, with and without connections', () => {
    expect(validateReport(parsed)).toEqual([])
    expect(validateReport(JSON.parse(renderJson(noTrafficReport())))).toEqual([])
  })
})

describe('stringifyWithoutDer', () => {
  it('gives what JSON.stringify with the withoutDer replacer gives, with or without a derBase64 anywhere', () => {
    const values: unknown[] = [
      {a: 1, b: [1, 'x', {c: null}]},
      {certificates: [{sha256: 'ab', derBase64: 'MIIB'}, {derBase64: 'MIIC', sans: []}]},
      [[{deep: {deeper: {derBase64: 'MIID', kept: true}}}]],
      // A value that reads "derBase64" is data, not the key: it stays.
      {sni: 'derBase64', note: '"derBase64"'},
      sampleReport(),
    ]
    for (const value of values) {
      for (const space of [undefined, 2]) {
        const text = stringifyWithoutDer(value, space)
        expect(text).toBe(JSON.stringify(value, withoutDer, space))
        expect(JSON.parse(text, (key, v) => (key === 'derBase64' ? expect.unreachable(`derBase64 in ${text}`) : v))).toBeDefined()
      }
    }
    expect(stringifyWithoutDer({sni: 'derBase64'})).toBe('{"sni":"derBase64"}')
    expect(stringifyWithoutDer({x: {derBase64: 'MIIB', y: 2}})).toBe('{"x":{"y":2}}')
  })
})

describe('schema/report.schema.json', () => {
  const valid = () => JSON.parse(renderJson(sampleReport()))

  it('lists exactly the public check ids', () => {
    expect(schema.$defs.checkId.enum).toEqual([...CHECK_IDS, ...PROBE_CHECK_IDS, ...DEFENDER_CHECK_IDS])
  })

  it('rejects a report with a status, confidence or check id outside the contract', () => {
    const report = valid()
    report.connections[0].checks[0].status = 'ok'
    report.connections[0].checks[1].confidence = 'guessed'
    report.connections[1].checks[2].id = 'tcp.fin'
    const errors = validateReport(report)
    expect(errors).toContain('/connections/0/checks/0/status must be equal to one of the allowed values')
    expect(errors).toContain('/connections/0/checks/1/confidence must be equal to one of the allowed values')
    expect(errors).toContain('/connections/1/checks/2/id must be equal to one of the allowed values')
  })

  it('rejects missing parts and unknown fields', () => {
    const report = valid()
    delete report.summary
    delete report.connections[0].facts.tcp.c2s
    report.connections[1].checks[0].evidence.frames = [0]
    report.connections[0].verdict = 'unknown'
    report.extra = true
    const errors = validateReport(report)
    expect(errors).toContain("/ must have required property 'summary'")
    expect(errors).toContain("/connections/0/facts/tcp must have required property 'c2s'")
    expect(errors).toContain('/connections/1/checks/0/evidence/frames/0 must be >= 1')
    expect(errors).toContain('/connections/0/verdict must be equal to one of the allowed values')
    expect(errors).toContain('/ must NOT have additional properties')
  })

  it('rejects a derBase64 smuggled into a check, times that are not ISO-8601 and bad addresses', () => {
    const report = valid()
    report.connections[0].checks[0].derBase64 = 'MII='
    report.connections[0].startedAt = 'yesterday'
    report.connections[1].client.ip = '127.0.0.300'
    const errors = validateReport(report)
    expect(errors).toContain('/connections/0/checks/0 must NOT have additional properties')
    expect(errors).toContain('/connections/0/startedAt must match format "date-time"')
    expect(errors.some((e) => e.startsWith('/connections/1/client/ip '))).toBe(true)
  })

  it('rejects what is not a report at all', () => {
    expect(validateReport(null)).toEqual(['/ must be object'])
    expect(validateReport({...valid(), schemaVersion: 2})).toEqual(['/schemaVersion must be equal to constant'])
  })
})
