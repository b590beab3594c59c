/**
 * What the capture worker (capture-worker.ts) and the Analyzer's thread (parallel-read.ts) say to
 * each other. Batches are sequences of entries, each a little-endian header padded to 4 bytes:
 *
 * | entry | header (u32 unless noted) | then |
 * |---|---|---|
 * | ENTRY_FRAME | tag, index, tsSec, tsNsec, linkType, origLen, interfaceId, caplen | caplen bytes |
 * | ENTRY_SECRETS | tag, secretsType, offset (f64), length | length bytes |
 * | ENTRY_FORMAT | tag, 0 pcap / 1 pcapng | |
 */
import type {CaptureErrorCode, CaptureSummary} from '../capture/types.js'
import type {PassedOverFrames} from './analyzer.js'

export const ENTRY_FRAME = 1
export const ENTRY_SECRETS = 2
export const ENTRY_FORMAT = 3
export const FRAME_ENTRY_HEADER = 32
export const SECRETS_ENTRY_HEADER = 20

/** A batch's size (a bigger record gets a batch of its own size). */
export const BATCH_BYTES = 2 << 20
/** A batch is sent once it holds this much (or a batch is full, or PROGRESS_EVERY_BYTES were read). */
export const SEND_AT_BYTES = 1 << 20
/** Batches sent and not yet given back before the worker waits. */
export const MAX_BATCHES_IN_FLIGHT = 8
/**
 * The worker sends what it has (or its progress) at least this often: each message costs the
 * Analyzer's thread ~0.2 ms, so not after every read when most frames are passed over.
 */
export const PROGRESS_EVERY_BYTES = 32 << 20

export interface CaptureWorkerData {
  file: string
  /** The Console ports (never empty: with every port a Console port there is nothing to pass over). */
  ports: number[]
  maxRecordBytes?: number
  /** Bytes per read. */
  readBytes: number
}

export type FromCaptureWorker =
  | {type: 'batch'; buffer: ArrayBuffer; length: number; bytesRead: number}
  | {type: 'progress'; bytesRead: number}
  | {type: 'end'; summary: CaptureSummary; passedOver: PassedOverFrames; bytesRead: number}
  /** The capture is corrupt (or unreadable) at `offset`; every frame before it was sent. */
  | {type: 'error'; code: CaptureErrorCode; message: string; offset: number}
  /** A bug: any other exception. */
  | {type: 'crash'; message: string; stack?: string}

export type ToCaptureWorker =
  /** A batch buffer, read and given back. */
  | {type: 'free'; buffer: ArrayBuffer}
  /**
   * A Console connection was found: the servers of the other traffic will not be reported (the
   * "seen instead" hint is for captures without one), so the worker stops counting them.
   */
  | {type: 'stop-counting'}
