/**
 * The bordered table under each connection block: column widths hold whatever the cells carry
 * (colour codes take no columns, East Asian wide characters two), multi-line cells make tall
 * rows, and an overlong line is cut with the ellipsis rather than breaking the border.
 */
import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import {displayWidth, renderBoxTable} from '../../src/report/box-table.js'

describe('renderBoxTable', () => {
  it('draws ASCII borders around padded cells, a tall row for a multi-line cell', () => {
    const text = renderBoxTable([['a', 'two\nlines'], ['', 'x']], {head: ['h1', 'h2'], colWidths: [5, 8], ascii: true})
    expect(text.split('\n')).toEqual([
      '+-----+--------+',
      '| h1  | h2     |',
      '| a   | two    |',
      '|     | lines  |',
      '|     | x      |',
      '+-----+--------+',
    ])
  })

  it('draws box-drawing borders when not ASCII', () => {
    const text = renderBoxTable([['a']], {head: ['h'], colWidths: [4], ascii: false})
    expect(text.split('\n')).toEqual(['┌────┐', '│ h  │', '│ a  │', '└────┘'])
  })

  it('pads by display width: colour codes take no column, wide characters two', () => {
    const chalk = new Chalk({level: 1})
    const text = renderBoxTable([[chalk.red('FAIL'), '漢字']], {head: ['s', 'n'], colWidths: [6, 6], ascii: true})
    const [, , row] = text.split('\n')
    expect(row).toBe(`| ${chalk.red('FAIL')} | 漢字 |`)
    // Every line is as wide as the border once the colour codes are gone.
    for (const line of text.split('\n')) expect(displayWidth(line)).toBe(15)
  })

  it('cuts a line wider than its column with the ellipsis, keeping the border', () => {
    const ascii = renderBoxTable([['abcdefghij']], {head: ['h'], colWidths: [6], ascii: true}).split('\n')
    expect(ascii[2]).toBe('| abc~ |')
    const unicode = renderBoxTable([['abcdefghij']], {head: ['h'], colWidths: [6], ascii: false}).split('\n')
    expect(unicode[2]).toBe('│ abc… │')
  })
})

describe('displayWidth', () => {
  it('counts printable ASCII as one column each and ignores SGR codes and combining marks', () => {
    expect(displayWidth('tls.finished')).toBe(12)
    expect(displayWidth('\u001b[1m\u001b[31mFAIL\u001b[39m\u001b[22m')).toBe(4)
    expect(displayWidth('e\u0301')).toBe(1)
    expect(displayWidth('→ ↳')).toBe(3)
    expect(displayWidth('ｆｕｌｌ')).toBe(8)
  })
})
