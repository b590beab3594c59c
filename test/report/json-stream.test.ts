/**
 * JsonReportStream writes the JSON report while the analysis runs: the document it gives must
 * be the one renderJson gives for the whole report (keys in another order: source and summary
 * come last), with the connections by id up to its limit and in the order they were decided
 * past it; valid against the schema; and right for a capture with no Console connection.
 */
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {ConnectionReport} from '../../src/model/report.js'
import {JSON_ORDERED_CONNECTIONS, JsonReportStream, renderJson} from '../../src/report/json.js'
import {validateReport} from '../../src/report/schema.js'
import {CORPUS_PCAPS} from '../helpers/paths.js'
import {describeWithJa4} from '../helpers/skip.js'

const CAPTURE = join(CORPUS_PCAPS, 'tls-handshake.pcapng')

async function streamed(ports: string[], ordered: number) {
  const policy = buildPolicy({ports})
  let text = ''
  const stream = new JsonReportStream({schemaVersion: 1, tool: {name: 'defender-check', version: '0.1.0'}, policy}, (piece) => (text += piece), ordered)
  const decided: number[] = []
  const report = await analyzeCapture(CAPTURE, {
    policy,
    maxReportedConnections: 0,
    onConnection: (connection: ConnectionReport) => {
      decided.push(connection.id)
      stream.connection(connection)
    },
  })
  stream.end(report)
  const whole = await analyzeCapture(CAPTURE, {policy})
  return {text, decided, whole: JSON.parse(renderJson({...whole, tool: {name: 'defender-check', version: '0.1.0'}}))}
}

describeWithJa4('JsonReportStream', () => {
  it('holds up to its limit and writes the connections by id, the same document as renderJson', async () => {
    expect(JSON_ORDERED_CONNECTIONS).toBeGreaterThanOrEqual(100)
    const {text, decided, whole} = await streamed(['443'], JSON_ORDERED_CONNECTIONS)
    const doc = JSON.parse(text)
    expect(doc).toEqual(whole)
    expect(doc.connections.map((c: {id: number}) => c.id)).toEqual(whole.connections.map((c: {id: number}) => c.id))
    expect(decided).not.toEqual([...decided].sort((a, b) => a - b))
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'tool', 'policy', 'connections', 'source', 'summary', 'defenders'])
    expect(validateReport(doc)).toEqual([])
  })

  it('lays the document out byte for byte as JSON.stringify(…, 2) does', async () => {
    for (const [ports, ordered] of [[['443'], JSON_ORDERED_CONNECTIONS], [['443'], 1], [['9999'], JSON_ORDERED_CONNECTIONS]] as const) {
      const {text} = await streamed([...ports], ordered)
      const doc = JSON.parse(text)
      expect(doc.connections.length > 0).toBe(ports[0] === '443')
      expect(text).toBe(`${JSON.stringify(doc, null, 2)}\n`)
    }
  })

  it('past its limit writes connections in the order decided, none lost or repeated', async () => {
    for (const ordered of [0, 1, 5]) {
      const {text, decided, whole} = await streamed(['443'], ordered)
      const doc = JSON.parse(text)
      const ids = doc.connections.map((c: {id: number}) => c.id)
      expect([...ids].sort((a: number, b: number) => a - b)).toEqual(whole.connections.map((c: {id: number}) => c.id))
      // The first `ordered + 1` held back, written by id, then the rest as decided.
      const held = decided.slice(0, ordered + 1).sort((a, b) => a - b)
      expect(ids).toEqual([...held, ...decided.slice(ordered + 1)])
      expect({...doc, connections: [...doc.connections].sort((a: {id: number}, b: {id: number}) => a.id - b.id)}).toEqual(whole)
    }
  })

  it('writes an empty connections array and the other traffic when no Console connection was seen', async () => {
    const {text, whole} = await streamed(['9999'], JSON_ORDERED_CONNECTIONS)
    const doc = JSON.parse(text)
    expect(doc.connections).toEqual([])
    expect(doc.otherTraffic.servers.length).toBeGreaterThan(0)
    expect(doc).toEqual(whole)
    expect(validateReport(doc)).toEqual([])
  })
})
