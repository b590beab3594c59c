/**
 * A sink that offers skipFrame (the analysis) is asked about every pcap record and pcapng packet block first, with the
 * bytes in place; the records it declines reach frame(). Wherever the input is split, every
 * record must be asked about once, in order, with the same bytes and times, and the declined
 * ones delivered as frames with the right index.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createCaptureParser} from '../../src/capture/parser.js'
import type {CaptureSink} from '../../src/capture/types.js'
import {CORPUS_PCAPS, FIXTURES} from '../helpers/paths.js'
import {presentFiles} from '../helpers/skip.js'
import {frameLines, parseBytes} from './collect.js'

const FILES = presentFiles([
  join(CORPUS_PCAPS, 'badcurveball.pcap'), // classic pcap, µs
  join(FIXTURES, 'capture', 'nanosecond', 'capture.pcap'), // classic pcap, ns, snaplen-cut frames
  join(CORPUS_PCAPS, 'tls12.pcap'),
  // pcapng honours the fast path too (issue 17): EPBs of two resolutions, and a DSB between frames.
  join(FIXTURES, 'capture', 'nanosecond', 'capture.pcapng'),
  join(FIXTURES, 'capture', 'dsb', 'capture.pcapng'),
  join(FIXTURES, 'tcp', 'dumpcap-pcapng', 'dumpcap.pcapng'),
])

/** Skips every other record it is asked about; lines say what was asked and what was delivered. */
function skippingSink(): {sink: CaptureSink; lines: string[]} {
  const lines: string[] = []
  let asked = 0
  const sink: CaptureSink = {
    skipFrame: (data, start, end, linkType, tsSec, tsNsec, origLen) => {
      asked++
      const skip = asked % 2 === 1
      lines.push(`asked #${asked} ${tsSec}.${tsNsec} link ${linkType} ${Buffer.from(data.subarray(start, end)).toString('hex')} orig ${origLen} ${skip ? 'skipped' : 'declined'}`)
      return skip
    },
    frame: (frame) => lines.push(`frame #${frame.index} ${frame.tsSec}.${frame.tsNsec} link ${frame.linkType} ${Buffer.from(frame.data).toString('hex')} orig ${frame.origLen}`),
  }
  return {sink, lines}
}

function parse(pieces: Uint8Array[]) {
  const {sink, lines} = skippingSink()
  const parser = createCaptureParser(sink)
  for (const piece of pieces) parser.push(piece)
  return {lines, summary: parser.end()}
}

describe.each(FILES)('%s with a skipping sink', (path) => {
  const bytes = readFileSync(path)
  const whole = parse([bytes])
  const all = frameLines(parseBytes(bytes).frames)

  it('asks about every record once, in order, and delivers the declined ones with their index', () => {
    const asked = whole.lines.filter((line) => line.startsWith('asked'))
    expect(asked).toHaveLength(all.length)
    expect(whole.summary.frames).toBe(all.length)
    // Every declined record is the next line, as frame #n with n its position in the file.
    whole.lines.forEach((line, i) => {
      if (line.endsWith('declined')) expect(whole.lines[i + 1]).toMatch(new RegExp(`^frame #${/^asked #(\d+)/.exec(line)![1]} `))
    })
  })

  it('gives the same questions and frames for a split at every byte boundary', () => {
    for (let split = 1; split < bytes.length; split++) {
      const result = parse([bytes.subarray(0, split), bytes.subarray(split)])
      if (JSON.stringify(result) !== JSON.stringify(whole)) expect({split, ...result}).toEqual({split, ...whole})
    }
  })

  it('gives the same for the file pushed in three pieces at every pair of record boundaries near the middle', () => {
    const third = Math.floor(bytes.length / 3)
    for (let a = third - 40; a < third + 40; a += 7) {
      for (let b = 2 * third - 40; b < 2 * third + 40; b += 5) {
        const result = parse([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)])
        if (JSON.stringify(result) !== JSON.stringify(whole)) expect({a, b, ...result}).toEqual({a, b, ...whole})
      }
    }
  })
})
