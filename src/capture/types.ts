/**
 * The capture layer's contract: sources turn bytes into RawFrames. Nothing here knows about
 * protocols above the link layer.
 */

/** One captured frame, as the file (or tcpdump) recorded it. */
export interface RawFrame {
  /** 1-based frame number in capture order, as Wireshark numbers frames. */
  index: number
  /** Capture time: whole seconds since the Unix epoch. */
  tsSec: number
  /** Capture time: nanoseconds within `tsSec` (0..999_999_999), exact for µs, ns and pcapng tsresol. */
  tsNsec: number
  /** LINKTYPE_* value (https://www.tcpdump.org/linktypes.html) of the interface that saw the frame. */
  linkType: number
  /**
   * The captured bytes: a view into the reader's buffer, valid only during the sink.frame()
   * call (readers may reuse buffers). A consumer that keeps bytes must copy them.
   */
  data: Uint8Array
  /** Length of the frame on the wire; larger than data.length when snaplen cut it. */
  origLen: number
  /** pcapng interface id; 0 for classic pcap. */
  interfaceId: number
}

/** pcapng Decryption Secrets Block type for an NSS key log ("TLSK", pcapng spec §4.7). */
export const DSB_TLS_KEY_LOG = 0x544c534b

/** A pcapng Decryption Secrets Block (pcapng spec §4.7). */
export interface DecryptionSecrets {
  /** Secrets type, e.g. DSB_TLS_KEY_LOG for an NSS key log. */
  secretsType: number
  data: Uint8Array
  /** Byte offset of the block in the file. */
  offset: number
}

/**
 * Where a reader delivers what it decodes. The contract every producer of frames keeps (the pcap
 * and pcapng readers, and anything that replays or wraps a sink: use deliverFrame() and
 * forwardSink() of ./sink.ts, never call frame() alone):
 *  1. format() first, once, as soon as the input's format is known;
 *  2. for each frame, in capture order: skipFrame() when the sink declares it, and frame() for
 *     that frame only when skipFrame() returned false (a sink with skipFrame may rely on it:
 *     frame() then gets only what skipFrame declined, and need not ask again);
 *  3. secrets() wherever the capture carries a Decryption Secrets Block.
 */
export interface CaptureSink {
  frame(frame: RawFrame): void
  /**
   * The fast path: asked first about every frame with the bytes in place (data[start, end), no
   * RawFrame, no view; valid during the call only), it returns true when it has dealt with the
   * frame (e.g. counted it as non-Console traffic); frame() is then not called for it. Frame
   * numbers stay the producer's count: the n-th frame asked about is frame n, skipped or not.
   * Used by the analysis to pass over a big capture's unrelated frames without allocating per
   * frame.
   */
  skipFrame?(data: Uint8Array, start: number, end: number, linkType: number, tsSec: number, tsNsec: number, origLen: number): boolean
  secrets?(secrets: DecryptionSecrets): void
  /**
   * Called once, when the input's magic has told its format, before any frame or secret:
   * 'pcap' (µs or ns) can carry no Decryption Secrets Block, so no secret() will come.
   */
  format?(format: CaptureFileFormat): void
}

/** What a sink's format() is told: the container, whatever its timestamp precision. */
export type CaptureFileFormat = 'pcap' | 'pcapng'

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng'

/** What a reader knows when the input has ended. */
export interface CaptureSummary {
  format: CaptureFormat
  /** 'le' or 'be' for the (first) section. */
  byteOrder: 'le' | 'be'
  /** Gzip-compressed input. */
  gzip: boolean
  frames: number
  /** Bytes of capture file consumed (after decompression). */
  bytes: number
  /** Link types seen, in order of first appearance. */
  linkTypes: number[]
  /** Classic pcap snaplen, or the largest pcapng IDB snaplen (0 = unlimited). */
  snaplen: number
  /**
   * Set when the input ended in the middle of a record (tcpdump killed while writing):
   * not fatal; everything before `offset` was delivered.
   */
  truncatedTail?: {offset: number; have: number; need: number}
}

/** Stable codes for file-level errors; each ends the run with exit code 2. */
export type CaptureErrorCode =
  | 'EMPTY' // zero-byte input
  | 'BAD_MAGIC' // not pcap, pcapng or gzip
  | 'TRUNCATED_HEADER' // input ends inside the file header
  | 'BAD_CAPLEN' // record length absurd (over the limit) or inconsistent
  | 'BAD_BLOCK_LENGTH' // pcapng block total length invalid or trailer mismatch
  | 'BAD_BLOCK' // pcapng block content invalid (e.g. EPB for unknown interface)
  | 'GZIP' // corrupt gzip stream
  | 'READ' // the OS refused the read (ENOENT, EACCES, EISDIR...)

/** A file-level error: the capture cannot be read past `offset`. */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError'
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    /** Byte offset in the (decompressed) capture where the problem is. */
    readonly offset: number,
    /** File name, filled in by the file source. */
    public file?: string,
  ) {
    super(message)
  }
}

export interface CaptureReaderOptions {
  /** Largest record a reader accepts before calling the file corrupt. Default 256 KiB. */
  maxRecordBytes?: number
}

export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024
