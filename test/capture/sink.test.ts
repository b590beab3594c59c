/**
 * capture/sink.ts keeps CaptureSink's contract for code that is not a reader: forwardSink shows
 * every frame to its watcher exactly once whichever path it takes, and forwards exactly the
 * methods the inner sink has; deliverFrame asks skipFrame first. Driven by real captures (pcap
 * and pcapng, the latter with a Decryption Secrets Block) through the real parser.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createCaptureParser} from '../../src/capture/parser.js'
import {deliverFrame, forwardSink} from '../../src/capture/sink.js'
import type {CaptureSink, RawFrame} from '../../src/capture/types.js'
import {FIXTURES} from '../helpers/paths.js'

const FILES = [join(FIXTURES, 'tls', 'openssl13-mtls', 'capture.pcap'), join(FIXTURES, 'capture', 'dsb', 'capture.pcapng')]

/** A sink that skips every other frame it is asked about and records everything it is told. */
function recordingSink(withSkip: boolean): {sink: CaptureSink; events: string[]} {
  const events: string[] = []
  let asked = 0
  const sink: CaptureSink = {
    frame: (frame) => events.push(`frame #${frame.index} ${frame.data.length}`),
    format: (format) => events.push(`format ${format}`),
    secrets: (block) => events.push(`secrets ${block.secretsType} ${block.data.length}`),
  }
  if (withSkip) sink.skipFrame = (_data, start, end) => (events.push(`asked ${end - start}`), ++asked % 2 === 1)
  return {sink, events}
}

describe.each(FILES)('%s', (path) => {
  const bytes = readFileSync(path)
  for (const withSkip of [true, false]) {
    it(`forwardSink ${withSkip ? 'with' : 'without'} skipFrame: the inner sink is told what the parser would tell it, the watcher sees each frame once`, () => {
      const direct = recordingSink(withSkip)
      const parser = createCaptureParser(direct.sink)
      parser.push(bytes)
      const frames = parser.end().frames

      const inner = recordingSink(withSkip)
      const watched: number[] = []
      const wrapped = forwardSink(inner.sink, (_data, start, end) => watched.push(end - start))
      expect(Object.keys(wrapped).sort()).toEqual(Object.keys(inner.sink).sort())
      const viaWrapper = createCaptureParser(wrapped)
      viaWrapper.push(bytes)
      viaWrapper.end()
      expect(inner.events).toEqual(direct.events)
      expect(watched).toHaveLength(frames)
    })
  }

  it('deliverFrame replays held frames as the parser delivered them', () => {
    const held: RawFrame[] = []
    const parser = createCaptureParser({frame: (frame) => held.push({...frame, data: frame.data.slice()})})
    parser.push(bytes)
    parser.end()
    const direct = recordingSink(true)
    const again = createCaptureParser(direct.sink)
    again.push(bytes)
    again.end()
    const replayed = recordingSink(true)
    for (const frame of held) deliverFrame(replayed.sink, frame)
    expect(replayed.events).toEqual(direct.events.filter((e) => e.startsWith('asked') || e.startsWith('frame')))
  })
})
