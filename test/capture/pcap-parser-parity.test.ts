/**
 * Classic microsecond pcaps decode identically through our reader and through pcap-parser (an
 * independent implementation): frame count, caplen, origLen, timestamps and bytes. pcap-parser
 * reads only this format, so other files are filtered out by their magic number.
 */
import {createReadStream, readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import pcapParser, {type Packet} from 'pcap-parser'
import {describe, expect, it} from 'vitest'
import {FIXTURES, ROOT, corpusFiles} from '../helpers/paths.js'
import {itWithJa4} from '../helpers/skip.js'
import {parseBytes} from './collect.js'

/** Classic pcap, microseconds, either byte order. */
function isClassicMicroseconds(path: string): boolean {
  const magic = readFileSync(path).subarray(0, 4).toString('hex')
  return magic === 'd4c3b2a1' || magic === 'a1b2c3d4'
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true, recursive: true})
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

const files = [...corpusFiles(), ...filesUnder(FIXTURES).sort()].filter(isClassicMicroseconds)

function readWithPcapParser(path: string): Promise<Packet[]> {
  return new Promise((resolve, reject) => {
    const packets: Packet[] = []
    const parser = pcapParser.parse(createReadStream(path))
    parser.on('packet', (packet: Packet) => packets.push(packet))
    parser.on('error', reject)
    parser.on('end', () => resolve(packets))
  })
}

describe('classic µs pcap: our reader vs pcap-parser', () => {
  it('finds at least one fixture', () => {
    expect(files.filter((f) => f.startsWith(FIXTURES)).length).toBeGreaterThan(0)
  })

  itWithJa4('finds the corpus files', () => {
    expect(files.length).toBeGreaterThan(20)
  })

  it.each(files.map((path) => [relative(ROOT, path), path]))('%s', async (_name, path) => {
    const reference = await readWithPcapParser(path)
    const {frames} = parseBytes(readFileSync(path))
    expect(frames.length).toBe(reference.length)
    frames.forEach((frame, i) => {
      const {header, data} = reference[i]!
      expect([frame.tsSec, frame.tsNsec, frame.data.length, frame.origLen]).toEqual([
        header.timestampSeconds,
        header.timestampMicroseconds * 1000,
        header.capturedLength,
        header.originalLength,
      ])
      expect(Buffer.from(frame.data).equals(data)).toBe(true)
    })
  })
})
