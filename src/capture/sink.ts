/**
 * The two helpers that keep CaptureSink's contract (types.ts) for code that is not a reader: a
 * replay of held frames (deliverFrame) and a wrapper that watches frames on their way to another
 * sink (forwardSink). A wrapper built by hand forgot skipFrame and format once (issue 17: the
 * progress line of `capture` and the frames held by `capture --probe`), which cost the fast path
 * and left a pcap's key store unsealed.
 */
import type {CaptureFileFormat, CaptureSink, DecryptionSecrets, RawFrame} from './types.js'

/** Delivers one frame as a reader does: skipFrame() first when the sink has it, then frame(). */
export function deliverFrame(sink: CaptureSink, frame: RawFrame): void {
  const data = frame.data
  if (sink.skipFrame?.(data, 0, data.length, frame.linkType, frame.tsSec, frame.tsNsec, frame.origLen) === true) return
  sink.frame(frame)
}

/**
 * What a wrapper sees of each frame, whichever path it takes: the bytes data[start, end) (valid
 * during the call only), the link type and the length on the wire.
 */
export type FrameWatcher = (data: Uint8Array, start: number, end: number, linkType: number, origLen: number) => void

/**
 * A sink that forwards every method of `inner` (the fast path, the format, the secrets) and shows
 * each frame to `watch` exactly once on the way. Every CaptureSink method is listed below: one
 * added to the interface and not forwarded here fails to compile.
 */
export function forwardSink(inner: CaptureSink, watch: FrameWatcher): CaptureSink {
  const skipFrame = inner.skipFrame?.bind(inner)
  const secrets = inner.secrets?.bind(inner)
  const format = inner.format?.bind(inner)
  const methods: {[K in keyof Required<CaptureSink>]: CaptureSink[K] | undefined} = {
    // With skipFrame, frame() gets only what skipFrame declined: that frame was watched already.
    frame: skipFrame
      ? (frame: RawFrame) => inner.frame(frame)
      : (frame: RawFrame) => {
          watch(frame.data, 0, frame.data.length, frame.linkType, frame.origLen)
          inner.frame(frame)
        },
    skipFrame: skipFrame
      ? (data: Uint8Array, start: number, end: number, linkType: number, tsSec: number, tsNsec: number, origLen: number) => {
          watch(data, start, end, linkType, origLen)
          return skipFrame(data, start, end, linkType, tsSec, tsNsec, origLen)
        }
      : undefined,
    secrets: secrets ? (block: DecryptionSecrets) => secrets(block) : undefined,
    format: format ? (kind: CaptureFileFormat) => format(kind) : undefined,
  }
  // A method the inner sink lacks stays absent (readers test for skipFrame, format, secrets).
  return Object.fromEntries(Object.entries(methods).filter(([, method]) => method !== undefined)) as unknown as CaptureSink
}
