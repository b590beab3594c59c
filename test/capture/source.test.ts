/**
 * readCapture / readCaptureStream: files, stdin, streams, gzip (made with the gzip tool), OS
 * errors; every CaptureFormatError names its file.
 */
import {execFileSync} from 'node:child_process'
import {createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {readCapture, readCaptureStream, STDIN_NAME} from '../../src/capture/index.js'
import {READ_BYTES} from '../../src/capture/source.js'
import {CaptureFormatError, type CaptureErrorCode} from '../../src/capture/types.js'
import {CORPUS_PCAPS, ROOT} from '../helpers/paths.js'
import {itWithJa4, ja4Cases} from '../helpers/skip.js'
import {collector, frameLines, parseBytes} from './collect.js'

const SSH_SCP = join(CORPUS_PCAPS, 'ssh-scp-1050.pcap') // 1105105 bytes, 1000 frames
const TLS3 = join(CORPUS_PCAPS, 'tls3.pcapng') // 980916 bytes, 1189 frames

const scratch = mkdtempSync(join(tmpdir(), 'capture-source-'))
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

/** `gzip -n -c FILE` written to the scratch folder. */
function gzipped(path: string, name: string): string {
  const out = join(scratch, name)
  writeFileSync(out, execFileSync('gzip', ['-n', '-c', path], {maxBuffer: 64 << 20}))
  return out
}

async function rejection(promise: Promise<unknown>): Promise<CaptureFormatError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(CaptureFormatError)
    return error as CaptureFormatError
  }
  throw new Error('expected a CaptureFormatError')
}

async function expectReadFailure(path: string, code: CaptureErrorCode): Promise<CaptureFormatError> {
  const error = await rejection(readCapture(path, {frame() {}}))
  expect(error.code).toBe(code)
  expect(error.file).toBe(path)
  return error
}

describe('readCapture on files', () => {
  it.each(ja4Cases('ssh-scp-1050.pcap and tls3.pcapng', () => [SSH_SCP, TLS3]))('%s: same frames and summary as the parser, with progress', async (path) => {
    const bytes = readFileSync(path)
    const {frames, sink} = collector()
    const progress: Array<[number, number | undefined]> = []
    const summary = await readCapture(path, sink, {onProgress: (read, total) => progress.push([read, total])})
    const expected = parseBytes(bytes)
    expect(summary).toEqual(expected.summary)
    expect(frameLines(frames)).toEqual(frameLines(expected.frames))
    // One report per read (READ_BYTES): they end at the file size, which is also the total.
    expect(progress.at(-1)).toEqual([bytes.length, bytes.length])
    expect(progress.map(([read]) => read)).toEqual([...progress.map(([read]) => read)].sort((a, b) => a - b))
    expect(progress.length).toBe(Math.ceil(bytes.length / READ_BYTES))
  })

  it('READ for a missing file', async () => {
    const error = await expectReadFailure(join(scratch, 'missing.pcap'), 'READ')
    expect(error.message).toContain('ENOENT')
  })

  it('READ for a directory', async () => {
    const error = await expectReadFailure(scratch, 'READ')
    expect(error.message).toContain('EISDIR')
  })

  it('EMPTY for an empty file', async () => {
    const empty = join(scratch, 'empty.pcap')
    writeFileSync(empty, '')
    await expectReadFailure(empty, 'EMPTY')
  })

  it('BAD_MAGIC for a file that is not a capture', async () => {
    await expectReadFailure(join(ROOT, 'package.json'), 'BAD_MAGIC')
  })

  itWithJa4('format errors from the parser carry the file name', async () => {
    const bad = new Uint8Array(readFileSync(SSH_SCP))
    new DataView(bad.buffer).setUint32(501_405 + 8, 0xfffffff0, true) // frame 559's caplen
    const path = join(scratch, 'bad-caplen.pcap')
    writeFileSync(path, bad)
    const error = await expectReadFailure(path, 'BAD_CAPLEN')
    expect(error.offset).toBe(501_405)
  })
})

describe('gzip input', () => {
  it.each(ja4Cases('ssh-scp-1050.pcap and tls3.pcapng', () => [SSH_SCP, TLS3]))('%s gzipped gives the same frames', async (path) => {
    const gz = gzipped(path, 'copy.gz')
    const {frames, sink} = collector()
    const progress: number[] = []
    const summary = await readCapture(gz, sink, {onProgress: (read) => progress.push(read)})
    const expected = parseBytes(readFileSync(path))
    expect(summary).toEqual({...expected.summary, gzip: true})
    expect(frameLines(frames)).toEqual(frameLines(expected.frames))
    expect(progress.at(-1)).toBe(readFileSync(gz).length) // compressed bytes
  })

  itWithJa4('a gzip stream cut short yields the frames before the cut and a truncated tail', async () => {
    const gz = readFileSync(gzipped(SSH_SCP, 'cut-source.gz'))
    const cut = join(scratch, 'cut.gz')
    writeFileSync(cut, gz.subarray(0, gz.length >> 1))
    const {frames, sink} = collector()
    const summary = await readCapture(cut, sink)
    const whole = parseBytes(readFileSync(SSH_SCP)).frames
    expect(summary.truncatedTail).toBeDefined()
    expect(summary.frames).toBeGreaterThan(100)
    expect(frameLines(frames)).toEqual(frameLines(whole.slice(0, summary.frames)))
    // Everything before the tail was decompressed and consumed.
    expect(summary.bytes).toBe(summary.truncatedTail!.offset + summary.truncatedTail!.have)
  })

  itWithJa4('GZIP for a corrupt CRC-32 trailer, with a compressed offset before it', async () => {
    const gz = new Uint8Array(readFileSync(gzipped(SSH_SCP, 'crc-source.gz')))
    const crcAt = gz.length - 8 // RFC 1952 §2.2: CRC32 then ISIZE end the member
    gz[crcAt]! ^= 0xff
    const path = join(scratch, 'bad-crc.gz')
    writeFileSync(path, gz)
    const error = await expectReadFailure(path, 'GZIP')
    expect(error.message).toContain('incorrect data check')
    expect(error.offset).toBeLessThanOrEqual(crcAt)
    expect(error.offset).toBeGreaterThan(crcAt - (1 << 20))
  })

  itWithJa4('GZIP for an invalid deflate block type at the start', async () => {
    const gz = new Uint8Array(readFileSync(gzipped(TLS3, 'btype-source.gz')))
    // With -n the 10-byte header (RFC 1952 §2.3) is followed by the first deflate block:
    // BFINAL=1, BTYPE=11 (reserved, RFC 1951 §3.2.3) is an error.
    gz[10] = 0b111
    const path = join(scratch, 'bad-btype.gz')
    writeFileSync(path, gz)
    const error = await expectReadFailure(path, 'GZIP')
    expect(error.message).toContain('invalid block type')
    expect(error.offset).toBeLessThanOrEqual(10)
  })
})

describe('readCaptureStream', () => {
  itWithJa4('reads a file stream in 1-byte chunks (the gzip sniff spans chunks)', async () => {
    const {frames, sink} = collector()
    const summary = await readCaptureStream(createReadStream(join(CORPUS_PCAPS, 'tls12.pcap'), {highWaterMark: 1}), 'tls12', sink)
    expect(summary).toEqual(parseBytes(readFileSync(join(CORPUS_PCAPS, 'tls12.pcap'))).summary)
    expect(frames.length).toBe(1)
  })

  itWithJa4('reads gzip from an async iterable of 1-byte chunks', async () => {
    const gz = readFileSync(gzipped(join(CORPUS_PCAPS, 'dhcp.pcapng'), 'dhcp.gz'))
    async function* bytes() {
      for (let i = 0; i < gz.length; i++) yield gz.subarray(i, i + 1)
    }
    const {frames, sink} = collector()
    const summary = await readCaptureStream(bytes(), 'dhcp.gz', sink)
    const expected = parseBytes(readFileSync(join(CORPUS_PCAPS, 'dhcp.pcapng')))
    expect(summary).toEqual({...expected.summary, gzip: true})
    expect(frameLines(frames)).toEqual(frameLines(expected.frames))
  })

  itWithJa4('names the stream in errors; a failing source is READ', async () => {
    async function* failing() {
      yield readFileSync(SSH_SCP).subarray(0, 4096)
      throw Object.assign(new Error('EIO: i/o error, read'), {code: 'EIO', syscall: 'read'})
    }
    const error = await rejection(readCaptureStream(failing(), 'tcpdump', {frame() {}}))
    expect([error.code, error.file, error.offset]).toEqual(['READ', 'tcpdump', 4096])
  })

  it('EMPTY for a stream that ends at once', async () => {
    const error = await rejection(readCaptureStream((async function* () {})(), 'tcpdump', {frame() {}}))
    expect([error.code, error.file]).toEqual(['EMPTY', 'tcpdump'])
  })
})

describe("readCapture('-') reads stdin", () => {
  itWithJa4('in a child process fed the file on stdin', () => {
    const script = `
      import {readCapture} from './src/capture/index.ts'
      let n = 0
      const s = await readCapture('-', {frame() { n++ }})
      console.log(JSON.stringify({n, frames: s.frames, format: s.format}))`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      input: readFileSync(TLS3),
      encoding: 'utf8',
    })
    expect(JSON.parse(out)).toEqual({n: 1189, frames: 1189, format: 'pcapng'})
  })

  it('errors name stdin', () => {
    const script = `
      import {readCapture} from './src/capture/index.ts'
      try { await readCapture('-', {frame() {}}) } catch (e) { console.log(JSON.stringify([e.code, e.file])) }`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      input: 'not a capture',
      encoding: 'utf8',
    })
    expect(JSON.parse(out)).toEqual(['BAD_MAGIC', STDIN_NAME])
  })
})
