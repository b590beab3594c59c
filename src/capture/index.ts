/** The capture layer: capture files and streams in, RawFrames (and TLS secrets) out. */
export * from './types.js'
export {createCaptureParser, type CaptureParser} from './parser.js'
export {readCapture, readCaptureStream, STDIN_NAME, type ReadCaptureOptions} from './source.js'
export {deliverFrame, forwardSink, type FrameWatcher} from './sink.js'
