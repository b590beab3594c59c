/**
 * A bordered table of fixed column widths, drawn as cli-table3 draws one with no row separators
 * (the look the table report had with cli-table3). The report's cells arrive wrapped to fit, so
 * all this does is measure, pad and border. cli-table3 measured every cell line several times
 * through string-width, which compiles a fresh ANSI regex per call: on a big capture's summary
 * (ten connection blocks) that was ~0.2 s of a ~1.5 s run, more than reading 300 MB.
 */
import {maxOf} from '../lists.js'

export interface BoxTableOptions {
  head: string[]
  /** Column widths, one space of padding on each side included. */
  colWidths: number[]
  /** ASCII borders (+ - |) instead of box drawing. */
  ascii: boolean
}

interface Borders {
  top: string
  topMid: string
  topLeft: string
  topRight: string
  bottom: string
  bottomMid: string
  bottomLeft: string
  bottomRight: string
  vertical: string
}

const ASCII: Borders = {top: '-', topMid: '+', topLeft: '+', topRight: '+', bottom: '-', bottomMid: '+', bottomLeft: '+', bottomRight: '+', vertical: '|'}
const UNICODE: Borders = {top: '─', topMid: '┬', topLeft: '┌', topRight: '┐', bottom: '─', bottomMid: '┴', bottomLeft: '└', bottomRight: '┘', vertical: '│'}

export function renderBoxTable(rows: string[][], options: BoxTableOptions): string {
  const b = options.ascii ? ASCII : UNICODE
  const widths = options.colWidths
  const rule = (left: string, horizontal: string, mid: string, right: string) => left + widths.map((w) => horizontal.repeat(w)).join(mid) + right
  const lines = [rule(b.topLeft, b.top, b.topMid, b.topRight)]
  for (const row of [options.head, ...rows]) {
    const cells = widths.map((_, i) => (row[i] ?? '').split('\n'))
    const height = maxOf(cells.map((cell) => cell.length), 0)
    for (let line = 0; line < height; line++) {
      lines.push(b.vertical + cells.map((cell, i) => ` ${fit(cell[line] ?? '', widths[i]! - 2, options.ascii)} `).join(b.vertical) + b.vertical)
    }
  }
  lines.push(rule(b.bottomLeft, b.bottom, b.bottomMid, b.bottomRight))
  return lines.join('\n')
}

/** `text` padded to `width` columns, or cut with an ellipsis when wider. */
function fit(text: string, width: number, ascii: boolean): string {
  const used = displayWidth(text)
  if (used <= width) return text + ' '.repeat(width - used)
  // Cutting coloured text would need its codes reopened; the cells are wrapped before they get
  // here, so this is the rare overlong word: it is cut plain.
  const mark = ascii ? '~' : '…'
  let cut = ''
  let taken = 0
  for (const char of stripAnsi(text)) {
    const w = charWidth(char.codePointAt(0)!)
    if (taken + w > width - 1) break
    cut += char
    taken += w
  }
  return cut + mark + ' '.repeat(Math.max(0, width - 1 - taken))
}

/** SGR sequences (colours, bold, dim) as chalk writes them. */
const ANSI_SGR = /\u001b\[[0-9;]*m/g
/** Anything that is not printable ASCII: the slow path of displayWidth. */
const NOT_PLAIN = /[^\u0020-\u007e]/

function stripAnsi(text: string): string {
  return text.includes('\u001b') ? text.replace(ANSI_SGR, '') : text
}

/** Terminal columns: colour codes take none, East Asian wide characters two, combining marks none. */
export function displayWidth(text: string): number {
  if (!NOT_PLAIN.test(text)) return text.length
  let width = 0
  for (const char of stripAnsi(text)) width += charWidth(char.codePointAt(0)!)
  return width
}

function charWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0
  if (code >= 0x300 && code <= 0x36f) return 0
  return isWide(code) ? 2 : 1
}

/** East Asian Wide and Fullwidth ranges (Unicode UAX #11), as string-width counts them. */
function isWide(code: number): boolean {
  return (
    code >= 0x1100 &&
    (code <= 0x115f ||
      code === 0x2329 ||
      code === 0x232a ||
      (code >= 0x2e80 && code <= 0x3247 && code !== 0x303f) ||
      (code >= 0x3250 && code <= 0x4dbf) ||
      (code >= 0x4e00 && code <= 0xa4c6) ||
      (code >= 0xa960 && code <= 0xa97c) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe10 && code <= 0xfe19) ||
      (code >= 0xfe30 && code <= 0xfe6b) ||
      (code >= 0xff01 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1b000 && code <= 0x1b001) ||
      (code >= 0x1f200 && code <= 0x1f251) ||
      (code >= 0x20000 && code <= 0x3fffd))
  )
}
