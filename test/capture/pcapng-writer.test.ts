/**
 * The pcapng writer (capture --probe -w) round-trips a real capture through our reader and
 * tshark: same frames, same times, the key log back out of its Decryption Secrets Block.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {readCapture} from '../../src/capture/index.js'
import {encodePcapng} from '../../src/capture/pcapng-writer.js'
import type {DecryptionSecrets, RawFrame} from '../../src/capture/types.js'
import {FIXTURES} from '../helpers/paths.js'
import {requireTool} from '../helpers/tools.js'

const SOURCE = join(FIXTURES, 'tls', 'openssl13-mtls', 'capture.pcap')
const KEYS = join(FIXTURES, 'tls', 'openssl13-mtls', 'keys.log')

async function read(path: string): Promise<{frames: RawFrame[]; secrets: DecryptionSecrets[]; linkTypes: number[]}> {
  const frames: RawFrame[] = []
  const secrets: DecryptionSecrets[] = []
  const summary = await readCapture(path, {
    frame: (f) => frames.push({...f, data: f.data.slice()}),
    secrets: (s) => secrets.push({...s, data: s.data.slice()}),
  })
  return {frames, secrets, linkTypes: summary.linkTypes}
}

describe('encodePcapng', () => {
  it('writes what the readers read back: frames, times, link type and the key log as a DSB', async () => {
    const original = await read(SOURCE)
    const dir = mkdtempSync(join(tmpdir(), 'defender-check-pcapng-'))
    const out = join(dir, 'out.pcapng')
    writeFileSync(out, encodePcapng({linkType: original.linkTypes[0]!, snaplen: 262_144, frames: original.frames, tlsKeyLog: readFileSync(KEYS)}))
    const copy = await read(out)
    expect(copy.linkTypes).toEqual(original.linkTypes)
    expect(copy.frames.map((f) => [f.index, f.tsSec, f.tsNsec, f.origLen, Buffer.from(f.data).toString('hex')])).toEqual(
      original.frames.map((f) => [f.index, f.tsSec, f.tsNsec, f.origLen, Buffer.from(f.data).toString('hex')]),
    )
    expect(copy.secrets).toHaveLength(1)
    expect(Buffer.from(copy.secrets[0]!.data).toString()).toBe(readFileSync(KEYS, 'utf8'))
    // tshark reads it as pcapng and decrypts with the embedded secrets alone: the client's
    // encrypted Certificate (11) and both Finished (20) messages appear.
    requireTool('tshark')
    const types = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'tls.handshake.type'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    expect(types.split(/[\n,]/).filter(Boolean)).toEqual(expect.arrayContaining(['1', '2', '8', '11', '13', '15', '20']))
  })
})
