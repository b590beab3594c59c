/**
 * The streamed formats batch their lines (cli/output.ts LineWriter): what is written must be the
 * lines exactly, in order, whatever their length or characters, and on a live pipe a decided
 * connection must reach the reader while the capture is still coming (the batch's timer), not
 * when the input ends.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it, vi} from 'vitest'
import {LineWriter, OUTPUT_FLUSH_MS} from '../../src/cli/output.js'
import {runCli} from '../helpers/cli.js'
import {ROOT} from '../helpers/paths.js'

const dir = mkdtempSync(join(tmpdir(), 'dc-batch-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('LineWriter to a file', () => {
  it('writes every line byte for byte: short, multi-byte UTF-8, longer than the batch, and past several batches', async () => {
    const file = join(dir, 'lines.ndjson')
    const writer = new LineWriter(file)
    const lines = [
      '{"a":1}\n',
      '{"name":"Zoë ✓ 控制台 🎉"}\n',
      `{"long":"${'x'.repeat(600_000)}"}\n`, // 600,000 × 3 > the 1 MiB batch: written on its own
      `{"multi":"${'é'.repeat(200_000)}"}\n`, // 2 bytes each in UTF-8
    ]
    for (let i = 0; i < 30_000; i++) lines.push(`{"i":${i},"pad":"${'y'.repeat(i % 97)}"}\n`)
    lines.push('{"last":"🎉"}\n')
    for (const line of lines) writer.write(line)
    await writer.close()
    const written = readFileSync(file)
    const expected = Buffer.from(lines.join(''))
    expect(written.length).toBe(expected.length)
    expect(written.equals(expected)).toBe(true)
  })

  it('a write that fails on the batch timer is kept and thrown at close, not left uncaught', async () => {
    vi.useFakeTimers()
    try {
      const writer = new LineWriter('/dev/full')
      writer.write('{"a":1}\n')
      // The timer's flush hits ENOSPC: it must not throw out of the timer.
      expect(() => vi.advanceTimersByTime(OUTPUT_FLUSH_MS)).not.toThrow()
      expect(() => writer.write('{"b":2}\n')).toThrow(/cannot write the report: ENOSPC/)
      await expect(writer.close()).rejects.toThrow(/cannot write the report: ENOSPC/)
    } finally {
      vi.useRealTimers()
    }
  })

  it('opens no file when nothing was written', async () => {
    const file = join(dir, 'never.ndjson')
    await new LineWriter(file).close()
    expect(() => readFileSync(file)).toThrow(/ENOENT/)
  })
})

describe('NDJSON when the input turns unreadable', () => {
  it('still writes the connections decided before the bad record, then exits 2 naming it', () => {
    const capture = readFileSync(join(ROOT, 'fixtures', 'wss', 'node-mtls', 'capture.pcap'))
    // A record header claiming a 4 GiB record: unreadable, after one whole connection.
    const bad = Buffer.concat([capture, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])])
    const file = join(dir, 'bad-record.pcap')
    writeFileSync(file, bad)
    const run = runCli(['analyze', file, '--format', 'ndjson'])
    expect(run.status).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain(`at byte ${capture.length}`)
    const lines = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {type: string; id?: number})
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({type: 'connection', id: 1})
  })
})

describe('NDJSON on a live pipe', () => {
  it('writes a decided connection while stdin is still open', async () => {
    const capture = readFileSync(join(ROOT, 'fixtures', 'wss', 'node-mtls', 'capture.pcap'))
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dev.js'), 'analyze', '-', '--format', 'ndjson'], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', DEBUG: ''}})
    let stdout = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    // The whole capture, its connection closed by FIN, and the pipe left open: the connection is
    // decided, and its line must come out before the input ends.
    child.stdin.write(capture)
    const firstLine = await new Promise<string>((resolve, reject) => {
      // Not ended by a limit of ours: vitest's test timeout ends a run that never writes; then
      // the child goes too.
      const stop = setTimeout(() => child.kill('SIGKILL'), 55_000)
      child.on('exit', () => clearTimeout(stop))
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8')
        const end = stdout.indexOf('\n')
        if (end !== -1) resolve(stdout.slice(0, end))
      })
      child.on('exit', () => reject(new Error(`exited before writing a line: ${stdout}`)))
    })
    expect(JSON.parse(firstLine)).toMatchObject({type: 'connection', id: 1})
    child.stdin.end()
    expect(await exited).toBe(0)
    const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {type: string})
    expect(lines.at(-1)?.type).toBe('summary')
    expect(lines.filter((line) => line.type === 'connection')).toHaveLength(1)
  })
})
