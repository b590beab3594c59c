import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {openReport} from '../../src/cli/output.js'
import {renderNdjson} from '../../src/report/ndjson.js'
import {validateNdjsonLine} from '../../src/report/schema.js'
import {sampleReportWithDefenders} from './sample-defenders.js'
import {noTrafficReport, sampleReport} from './sample-report.js'

describe('renderNdjson', () => {
  const report = sampleReport()
  const text = renderNdjson(report)
  const lines = text.split('\n')

  it('is one JSON object per connection and a summary line, newline-terminated', () => {
    expect(text.endsWith('\n')).toBe(true)
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(report.connections.length + 1)
    const values = lines.map((line) => JSON.parse(line))
    expect(values.map((value) => value.type)).toEqual(['connection', 'connection', 'summary'])
  })

  it('carries each connection whole, with the source name', () => {
    const [first, second] = lines.map((line) => JSON.parse(line))
    expect(first.id).toBe(1)
    expect(first.source).toBe('captures/defender & console.pcap')
    expect(first.checks.map((c: {id: string}) => c.id)).toEqual(report.connections[0].checks.map((c) => c.id))
    expect(second.client).toEqual({ip: '127.0.0.3', port: 33511})
    expect(second.verdict).toBe('fail')
    expect(text).not.toContain('derBase64')
  })

  it('ends with the summary and its context', () => {
    const summary = JSON.parse(lines[lines.length - 1])
    expect(summary).toEqual({
      type: 'summary',
      schemaVersion: 1,
      tool: {name: 'defender-check', version: '0.1.0'},
      source: 'captures/defender & console.pcap',
      policy: {ports: [8084], minTls: '1.3'},
      connections: 2,
      pass: 5,
      fail: 3,
      warn: 1,
      skip: 1,
      verdict: 'fail',
    })
  })

  it('has lines that validate against the schema line shapes, and broken ones that do not', () => {
    for (const line of lines) expect(validateNdjsonLine(JSON.parse(line))).toEqual([])
    const connection = JSON.parse(lines[0])
    delete connection.source
    expect(validateNdjsonLine(connection)).not.toEqual([])
    const summary = JSON.parse(lines[2])
    summary.verdict = 'warn'
    expect(validateNdjsonLine(summary)).not.toEqual([])
  })

  it('is a single summary line, with what was seen instead, when there are no connections', () => {
    const only = renderNdjson(noTrafficReport()).trimEnd().split('\n')
    expect(only).toHaveLength(1)
    const summary = JSON.parse(only[0])
    expect(summary.type).toBe('summary')
    expect(summary.connections).toBe(0)
    expect(summary.otherTraffic.servers[0]).toEqual({ip: '10.0.0.5', port: 443, packets: 120})
    expect(validateNdjsonLine(summary)).toEqual([])
  })

  it('writes one defender line per Defender of the view, after the connections and before the summary', () => {
    const withView = sampleReportWithDefenders(7)
    const text = renderNdjson(withView)
    const values = text.trimEnd().split('\n').map((line) => JSON.parse(line))
    expect(values.map((value) => value.type)).toEqual(['connection', 'connection', ...Array(7).fill('defender'), 'summary'])
    const defenders = values.filter((value) => value.type === 'defender')
    expect(defenders.map((d) => d.identity.key)).toEqual(withView.defenders!.defenders.map((d) => d.identity.key))
    // Each line is the DefenderReport whole, with the source name (a log pipeline reads one line alone).
    const {type, source, ...rest} = defenders[1]
    expect(rest).toEqual(withView.defenders!.defenders[1])
    expect(source).toBe('captures/defender & console.pcap')
    expect(defenders[1].checks[0]).toMatchObject({id: 'channel.stability', status: 'fail'})
    for (const value of values) expect(validateNdjsonLine(value)).toEqual([])
    const broken = {...defenders[0]}
    delete broken.identity
    expect(validateNdjsonLine(broken)).not.toEqual([])
    // A report without the view has no defender line (the lines of today's reports are unchanged).
    expect(renderNdjson(sampleReport())).toBe(text.split('\n').filter((line) => !line.startsWith('{"type":"defender"')).join('\n'))
  })

  it('streamed as the CLI writes it (connections as decided, the rest at the end) gives the same lines, defender lines included', async () => {
    const withView = sampleReportWithDefenders(7)
    const dir = mkdtempSync(join(tmpdir(), 'dc-ndjson-'))
    try {
      const output = join(dir, 'report.ndjson')
      const open = openReport({format: 'ndjson', output, sourceName: withView.source.name})
      for (const connection of withView.connections) open.analysis.onConnection!(connection)
      await open.finish(withView)
      const streamed = readFileSync(output, 'utf8')
      expect(streamed).toBe(renderNdjson(withView))
      expect(streamed.split('\n').filter((line) => line.startsWith('{"type":"defender"'))).toHaveLength(7)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('schema: the NDJSON defender line', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'))
  it('has the members of $defs/defenderReport, plus type and source, and nothing else', () => {
    const line = schema.$defs.ndjsonDefender
    const report = schema.$defs.defenderReport
    const {type, source, ...rest} = line.properties
    expect(type).toEqual({const: 'defender'})
    expect(source).toEqual({type: 'string'})
    expect(rest).toEqual(report.properties)
    expect(line.required).toEqual(['type', 'source', ...report.required])
    expect(line.additionalProperties).toBe(false)
  })

  it('rejects a defender line with a member the report does not have', () => {
    const [line] = renderNdjson(sampleReportWithDefenders(3)).split('\n').filter((text) => text !== '').map((text) => JSON.parse(text)).filter((l) => l.type === 'defender')
    expect(line).toBeDefined()
    expect(validateNdjsonLine(line)).toEqual([])
    expect(validateNdjsonLine({...line, planted: 1}).length).toBeGreaterThan(0)
  })
})
