/**
 * JA4 / JA4_r conformance with the FoxIO corpus: for every ClientHello listed in
 * the corpus's ja4/expected/*.json (test/helpers/paths.ts says where), the ClientHello of that tshark stream (N-th for JA4.N),
 * parsed by our readers, must give the expected JA4 and JA4_r.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {parseClientHello} from '../../../src/protocols/tls/client-hello.js'
import {ja4} from '../../../src/protocols/tls/ja4.js'
import {CORPUS} from '../../helpers/paths.js'
import {describeWithJa4} from '../../helpers/skip.js'
import {firstMessage} from './feed.js'
import {fromHex, vectors, type HelloVector} from './vectors.js'

interface ExpectedEntry {
  stream: number
  [key: string]: unknown
}

interface Case {
  capture: string
  stream: number
  n: number
  ja4: string
  ja4r: string
  hello?: HelloVector
}

function cases(): Case[] {
  const out: Case[] = []
  const dir = join(CORPUS, 'expected')
  for (const name of readdirSync(dir).sort()) {
    const capture = name.replace(/\.json$/, '')
    const entries = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ExpectedEntry[]
    for (const entry of entries) {
      const hellos = vectors.clientHellos
        .filter((v) => v.file.endsWith(`/ja4/pcap/${capture}`) && v.stream === entry.stream)
        .sort((a, b) => a.frame - b.frame)
      for (let n = 1; typeof entry[`JA4.${n}`] === 'string'; n++) {
        out.push({capture, stream: entry.stream, n, ja4: entry[`JA4.${n}`] as string, ja4r: entry[`JA4_r.${n}`] as string, hello: hellos[n - 1]})
      }
    }
  }
  return out
}

describeWithJa4('JA4 corpus conformance', () => {
  const all = cases()

  it('finds a TCP ClientHello for every one of the 160 expected JA4 entries (QUIC entries are t-less, none here)', () => {
    expect(all.length).toBe(160)
    expect(all.filter((c) => !c.hello).map((c) => `${c.capture}#${c.stream}#${c.n}`)).toEqual([])
  })

  for (const c of all) {
    it(`${c.capture} stream ${c.stream} ClientHello ${c.n}`, () => {
      const hello = parseClientHello(firstMessage(fromHex(c.hello!.hex), 1))
      const got = ja4(hello, 't')
      expect(got.ja4).toBe(c.ja4)
      expect(got.ja4r).toBe(c.ja4r)
    })
  }
})
