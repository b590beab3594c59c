/**
 * Capture sources: a file path, '-' for stdin, or any byte stream (tcpdump's stdout), plain or
 * gzip-compressed (sniffed by the 1f 8b magic, decompressed on the fly). Memory stays flat: a
 * file is read into two reused 4 MiB buffers (one being parsed while the next read runs), and
 * the parser copies only a record that spans two reads.
 */
import {open, type FileHandle} from 'node:fs/promises'
import {pipeline} from 'node:stream'
import {constants as zlibConstants, createGunzip} from 'node:zlib'
import {createCaptureParser} from './parser.js'
import {CaptureFormatError, type CaptureReaderOptions, type CaptureSink, type CaptureSummary} from './types.js'

export interface ReadCaptureOptions extends CaptureReaderOptions {
  /**
   * Called after each read with the bytes read from the input (compressed bytes for gzip; an
   * uncompressed chunk is parsed by then). A promise returned holds the
   * reading until it settles: a consumer that cannot keep up (a sharded analysis's merge waiting
   * for its other shards) makes the reader wait instead of buffering.
   */
  onProgress?(bytesRead: number, totalBytes?: number): unknown
  /** Bytes per read of a file (default READ_BYTES); tests make it small to cut records across reads. */
  readBytes?: number
}

/** Name used in errors for `readCapture('-')`. */
export const STDIN_NAME = '<stdin>'

/**
 * One read's size. FileHandle.read into reused buffers beat fs.createReadStream with 1 MiB
 * chunks (which allocates a buffer per chunk) on 200 and 500 MB pcaps from the page cache:
 * ~3.5 vs ~2.1 GB/s and 80 vs 110 MiB peak RSS (bench/capture-throughput.ts measures both).
 * 4 MiB rather than 1: with the analysis running, the main thread waited on 1 MiB reads for
 * ~0.33 s of a 1.17 GB capture's ~1.0 s (each read's round trip through the thread pool), on
 * 4 MiB reads for ~0.16 s, for 0.77 s in all; 8 and 16 MiB waited less but parsed slower
 * (the chunk no longer fits in cache), 0.80 s.
 */
export const READ_BYTES = 4 << 20
/** Compressed input: zlib holds on to what it is given, a fresh buffer per read, so smaller ones. */
const GZIP_READ_BYTES = 1 << 20
/**
 * Decompressed chunk size. zlib works in steps of one output chunk and reports the compressed
 * bytes consumed before the failing step, so this bounds how far a GZIP error's offset can lie
 * before the corrupt byte (for capture data, compression ratios are ~1-4).
 */
const GUNZIP_CHUNK_BYTES = 64 * 1024

/** Reads a capture file (or stdin for '-') into `sink`; CaptureFormatErrors carry `.file`. */
export async function readCapture(input: string, sink: CaptureSink, opts: ReadCaptureOptions = {}): Promise<CaptureSummary> {
  if (input === '-') return readCaptureStream(process.stdin, STDIN_NAME, sink, opts)
  let handle: FileHandle
  try {
    handle = await open(input, 'r')
  } catch (err) {
    throw asCaptureError(err, input, 0)
  }
  try {
    let totalBytes: number
    const readBytes = opts.readBytes ?? READ_BYTES
    let buffer = new Uint8Array(readBytes)
    let bytesRead: number
    try {
      totalBytes = (await handle.stat()).size
      bytesRead = (await handle.read(buffer, 0, readBytes, null)).bytesRead
    } catch (err) {
      throw asCaptureError(err, input, 0)
    }
    const gzip = bytesRead >= 2 && isGzipMagic(buffer[0], buffer[1])
    let spare = new Uint8Array(readBytes)
    // Double buffering: the next read runs in libuv's thread pool while this chunk is parsed.
    // zlib holds on to the chunks it is given, so gzip input gets a fresh buffer per read.
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let reading: Promise<{bytesRead: number}> | undefined
      try {
        while (bytesRead > 0) {
          const next = gzip ? new Uint8Array(Math.min(readBytes, GZIP_READ_BYTES)) : spare
          reading = handle.read(next, 0, next.length, null)
          // Handled now, rethrown by the await below: gzip's pipeline may hold the generator at
          // its yield for several turns of the event loop, and a read may fail meanwhile.
          reading.catch(() => undefined)
          yield buffer.subarray(0, bytesRead)
          bytesRead = (await reading).bytesRead
          reading = undefined
          spare = buffer
          buffer = next
        }
      } finally {
        // The consumer stopped early (a corrupt record): let the read in flight settle before close.
        if (reading !== undefined) await reading.then(undefined, () => undefined)
      }
    }
    return await parseChunks(chunks(), gzip, input, sink, opts, totalBytes)
  } finally {
    await handle.close()
  }
}

/** Reads a capture from a byte stream (e.g. `tcpdump -w -`'s stdout); `name` labels errors. */
export async function readCaptureStream(
  stream: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  name: string,
  sink: CaptureSink,
  opts: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  const iterator = (stream as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]()
  // Peek until the two bytes that tell gzip apart are in hand, then replay them.
  const head: Uint8Array[] = []
  let headBytes = 0
  let done = false
  try {
    while (headBytes < 2) {
      const next = await iterator.next()
      if (next.done === true) {
        done = true
        break
      }
      const chunk = bytesOf(next.value)
      head.push(chunk)
      headBytes += chunk.length
    }
  } catch (err) {
    throw asCaptureError(err, name, headBytes)
  }
  const magic = Buffer.concat(head, Math.min(2, headBytes))
  const gzip = isGzipMagic(magic[0], magic[1])
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield* head
    if (done) return
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield bytesOf(next.value)
  }
  return parseChunks(chunks(), gzip, name, sink, opts, undefined)
}

async function parseChunks(
  chunks: AsyncIterable<Uint8Array>,
  gzip: boolean,
  name: string,
  sink: CaptureSink,
  opts: ReadCaptureOptions,
  totalBytes: number | undefined,
): Promise<CaptureSummary> {
  const parser = createCaptureParser(sink, opts)
  const onProgress = opts.onProgress
  let bytesRead = 0
  try {
    if (!gzip) {
      for await (const chunk of chunks) {
        bytesRead += chunk.length
        parser.push(chunk)
        const held = onProgress?.(bytesRead, totalBytes)
        if (held instanceof Promise) await held
      }
      return parser.end()
    }
    const gunzip = createGunzip({
      chunkSize: GUNZIP_CHUNK_BYTES,
      // A gzip stream cut short (compressor killed) yields what it holds; the capture parser
      // then reports the cut record as a truncated tail, as for an uncompressed file.
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    })
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunks) {
        bytesRead += chunk.length
        const held = onProgress?.(bytesRead, totalBytes)
        if (held instanceof Promise) await held
        yield chunk
      }
    }
    // pipeline() destroys the gunzip with any source or zlib error, so the loop below sees it.
    const decompressed = pipeline(counted(), gunzip, () => {})
    try {
      for await (const chunk of decompressed) parser.push(chunk as Buffer)
    } catch (err) {
      // zlib counts the compressed bytes it consumed in the steps before the failing one.
      throw isZlibError(err) ? asCaptureError(err, name, gunzip.bytesWritten) : err
    }
    return {...parser.end(), gzip: true}
  } catch (err) {
    throw asCaptureError(err, name, bytesRead)
  }
}

function isGzipMagic(first: number | undefined, second: number | undefined): boolean {
  return first === 0x1f && second === 0x8b
}

function bytesOf(chunk: Uint8Array | string): Uint8Array {
  if (typeof chunk === 'string') throw new TypeError('capture streams must yield bytes: do not set an encoding')
  return chunk
}

function isZlibError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).code!.startsWith('Z_')
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string'
}

/** Gives every file-level failure a CaptureFormatError with the file name; other errors pass. */
function asCaptureError(err: unknown, file: string, offset: number): unknown {
  if (err instanceof CaptureFormatError) {
    err.file ??= file
    return err
  }
  if (isZlibError(err)) {
    return new CaptureFormatError('GZIP', `corrupt gzip data (detected after compressed offset ${offset}): ${err.message}`, offset, file)
  }
  if (isSystemError(err)) return new CaptureFormatError('READ', `cannot read: ${err.message}`, offset, file)
  return err
}
