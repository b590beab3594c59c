/**
 * The report as JSON, the contract in schema/report.schema.json. Certificates are summarised by
 * their facts (subject, SANs, validity, fingerprint): their DER (derBase64) is kept in memory
 * for chain verification and never written out.
 */
import type {DefenderView} from '../model/defenders.js'
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
 * connections are decided. Their compact text is held, not the objects (~10 KB each on bench
 * file (b), half the indented text), and laid out when written.
 */
export const JSON_ORDERED_CONNECTIONS = 1000

/**
 * The same JSON document, written while the analysis runs so that a capture of 100,000
 * connections is never held whole: the head (schemaVersion, tool, policy) and the connections
 * as they are decided, then `source`, `otherTraffic`, `summary` and `defenders` once the input has ended.
 * Up to JSON_ORDERED_CONNECTIONS the connections come out by id, as renderJson lists them; past
 * that they are written in the order they were decided (each carries its id and startedAt).
 * The text goes to `write` a piece at a time (a connection, a Defender): never one string of
 * many of them (1,000 held connections are ~20 MB of text, 5,000 Defenders ~60 MB).
 */
export class JsonReportStream {
  /** Compact text (or, with item, the laid-out item) of the connections held back. */
  private held: Array<{id: number; text: string; item?: true}> | undefined = []
  private written = 0

  constructor(
    private readonly head: Pick<AnalysisReport, 'schemaVersion' | 'tool' | 'policy'>,
    private readonly write: (text: string) => void,
    private readonly ordered = JSON_ORDERED_CONNECTIONS,
  ) {}

  /** A decided connection: written now, or held back while connections are written by id. */
  connection(connection: ConnectionReport): void {
    if (this.held === undefined) {
      this.item(itemText(connection))
      return
    }
    this.held.push({id: connection.id, text: stringifyWithoutDer(connection)})
    if (this.held.length > this.ordered) this.release()
  }

  /**
   * A decided connection already laid out as an item (connectionItemText, as a sharded analysis's
   * shard makes it): held as it is while connections are written by id, else written now.
   */
  connectionItem(id: number, item: string): void {
    if (this.held === undefined) {
      this.item(item)
      return
    }
    this.held.push({id, text: item, item: true})
    if (this.held.length > this.ordered) this.release()
  }

  /** The rest of the document, once the report is complete; the per-Defender view one Defender at a time. */
  end(report: AnalysisReport): void {
    if (this.held !== undefined) this.release()
    let text = this.written === 0 ? `${this.opening()}]` : '\n  ]'
    text += `,\n${member('source', report.source)}`
    if (report.otherTraffic !== undefined) text += `,\n${member('otherTraffic', report.otherTraffic)}`
    text += `,\n${member('summary', report.summary)}`
    // The per-Defender view comes last, as renderJson writes it (the Analyzer adds it at the end).
    if (report.defenders !== undefined) {
      this.write(`${text},\n`)
      for (const piece of defendersMember(report.defenders)) this.write(piece)
      text = ''
    }
    this.write(`${text}\n}\n`)
  }

  /** Writes what is held, by id, and from now on writes connections as they come. */
  private release(): void {
    const held = this.held!.sort((a, b) => a.id - b.id)
    this.held = undefined
    // JSON.parse gives back the value the compact text was made from (keys in the same order,
    // every number the same double), so it lays out as the connection itself would have.
    for (const {text, item} of held) this.item(item ? text : itemText(JSON.parse(text) as ConnectionReport))
  }

  private item(text: string): void {
    this.write(this.written === 0 ? `${this.opening()}\n` : ',\n')
    this.written++
    this.write(text)
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

/**
 * An element of an array `depth` levels into the document, laid out there: `value` is
 * stringified inside `depth` arrays, whose brackets and newlines (2 + 4 + … + 2·depth characters
 * on each side, e.g. '[\n  [\n' and '\n  ]\n]' at depth 2) are cut off.
 */
function elementText(value: unknown, depth: number): string {
  let wrapped = value
  for (let i = 0; i < depth; i++) wrapped = [wrapped]
  const text = stringifyWithoutDer(wrapped, 2)
  const cut = depth * (depth + 1)
  return text.slice(cut, text.length - cut)
}

/** `    {…}`: an element of the top-level `connections` array. */
function itemText(connection: ConnectionReport): string {
  return elementText(connection, 2)
}

/** A connection laid out as an item of the document's `connections` (for JsonReportStream.connectionItem). */
export const connectionItemText = itemText

/**
 * `  "defenders": {…}` at the document's top level, its `defenders` array one element at a time:
 * the view is laid out with an empty array in its place (the spread keeps the key where it was),
 * and the elements go where that `[]` is.
 */
function* defendersMember(view: DefenderView): Generator<string> {
  const text = member('defenders', {...view, defenders: []})
  const at = view.defenders.length === 0 ? -1 : text.indexOf(EMPTY_DEFENDERS)
  if (at === -1) {
    yield text
    return
  }
  const open = at + EMPTY_DEFENDERS.length - 1
  yield `${text.slice(0, open)}\n`
  let first = true
  for (const defender of view.defenders) {
    // The view's `defenders` array sits at depth 3 (document → view → array).
    yield `${first ? '' : ',\n'}${elementText(defender, 3)}`
    first = false
  }
  yield `\n    ${text.slice(open)}`
}

/** The view's own `defenders` member as member() lays out an empty one, at depth 2. */
const EMPTY_DEFENDERS = '\n    "defenders": []'

/** `  "key": value` at the document's top level. */
function member(key: string, value: unknown): string {
  const text = stringifyWithoutDer({[key]: value}, 2)
  // '{\n' before, '\n}' after.
  return text.slice(2, text.length - 2)
}
