/**
 * The report as JSON, the contract in schema/report.schema.json. Certificates are summarised by
 * their facts (subject, SANs, validity, fingerprint): their DER (derBase64) is kept in memory
 * for chain verification and never written out.
 */
import type {AnalysisReport, ConnectionReport} from '../model/report.js'

/** JSON.stringify replacer dropping every key named derBase64, at any depth. */
export function withoutDer(key: string, value: unknown): unknown {
  return key === 'derBase64' ? undefined : value
}

/**
 * JSON.stringify(value, withoutDer, space), without the replacer's cost when there is no
 * derBase64 to drop. A replacer function makes V8 call back into JavaScript for every key: ~20 µs
 * of the ~50 µs a connection's NDJSON line took on bench file (b). The DER is only in certificate
 * facts, which most connections never carry (TLS 1.3 without a key log), so the text is made
 * without the replacer and made again with it only when the key appears in it. Any object holding
 * a derBase64 key gives text with `"derBase64"` in it, so nothing is let through; a string value
 * that happens to read "derBase64" only costs the second pass.
 */
export function stringifyWithoutDer(value: unknown, space?: number): string {
  const text = JSON.stringify(value, null, space)
  return text.includes('"derBase64"') ? JSON.stringify(value, withoutDer, space) : text
}

export function renderJson(report: AnalysisReport): string {
  return stringifyWithoutDer(report, 2)
}

/**
 * Connections held back to be written by id; past this many, a JSON report is written as its
 * connections are decided. Their text is held, not the objects: ~1,000 × a few KB.
 */
export const JSON_ORDERED_CONNECTIONS = 1000

/**
 * The same JSON document, written while the analysis runs so that a capture of 100,000
 * connections is never held whole: the head (schemaVersion, tool, policy) and the connections
 * as they are decided, then `source`, `otherTraffic`, `summary` and `defenders` once the input has ended.
 * Up to JSON_ORDERED_CONNECTIONS the connections come out by id, as renderJson lists them; past
 * that they are written in the order they were decided (each carries its id and startedAt).
 * Pure: every call returns the text to write next.
 */
export class JsonReportStream {
  private held: Array<{id: number; text: string}> | undefined = []
  private written = 0

  constructor(
    private readonly head: Pick<AnalysisReport, 'schemaVersion' | 'tool' | 'policy'>,
    private readonly ordered = JSON_ORDERED_CONNECTIONS,
  ) {}

  /** A decided connection: the text to write now (empty while connections are held back). */
  connection(connection: ConnectionReport): string {
    const text = itemText(connection)
    if (this.held !== undefined) {
      this.held.push({id: connection.id, text})
      return this.held.length > this.ordered ? this.release() : ''
    }
    return this.item(text)
  }

  /** The rest of the document, once the report is complete. */
  end(report: AnalysisReport): string {
    let text = this.held !== undefined ? this.release() : ''
    text += this.written === 0 ? `${this.opening()}]` : '\n  ]'
    text += `,\n${member('source', report.source)}`
    if (report.otherTraffic !== undefined) text += `,\n${member('otherTraffic', report.otherTraffic)}`
    text += `,\n${member('summary', report.summary)}`
    // The per-Defender view comes last, as renderJson writes it (the Analyzer adds it at the end).
    if (report.defenders !== undefined) text += `,\n${member('defenders', report.defenders)}`
    return `${text}\n}\n`
  }

  /** Writes what is held, by id, and from now on writes connections as they come. */
  private release(): string {
    const held = this.held!.sort((a, b) => a.id - b.id)
    this.held = undefined
    let text = ''
    for (const {text: item} of held) text += this.item(item)
    return text
  }

  private item(text: string): string {
    const before = this.written === 0 ? `${this.opening()}\n` : ',\n'
    this.written++
    return before + text
  }

  /** The document up to the connections array's opening bracket. */
  private opening(): string {
    const {schemaVersion, tool, policy} = this.head
    return `{\n${member('schemaVersion', schemaVersion)},\n${member('tool', tool)},\n${member('policy', policy)},\n  "connections": [`
  }
}

/*
 * Text laid out as JSON.stringify(…, 2) lays out the whole document, made by stringifying the
 * value inside a wrapper of the depth it has in the document and cutting the wrapper off: no
 * second pass over the text to indent it (a regex over every connection's ~10 KB was about a
 * third of the JSON output's cost).
 */

/** `    {…}`: an element of the top-level `connections` array. */
function itemText(connection: ConnectionReport): string {
  const text = stringifyWithoutDer([[connection]], 2)
  // '[\n  [\n' before, '\n  ]\n]' after.
  return text.slice(6, text.length - 6)
}

/** `  "key": value` at the document's top level. */
function member(key: string, value: unknown): string {
  const text = stringifyWithoutDer({[key]: value}, 2)
  // '{\n' before, '\n}' after.
  return text.slice(2, text.length - 2)
}
