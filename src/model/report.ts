/**
 * The report: one ConnectionReport per connection (a capture's ConnectionFacts or the probe's
 * ProbeFacts, its checks and verdict), where the packets came from, and the summary. Renderers
 * (report/) write it; json.ts writes it as it is.
 */
import type {Issue} from '../issues.js'
import type {Endpoint} from '../stream/types.js'
import type {CaptureSummary} from '../capture/types.js'
import type {KeySourceFacts} from '../keys/store.js'
import type {CheckResult, ConnectionVerdict} from './checks.js'
import type {DefenderView} from './defenders.js'
import type {ConnectionFacts} from './facts.js'
import type {Policy} from './policy.js'
import type {ProbeFacts} from './probe.js'

/**
 * One connection's verdict. `F` is what it rests on: a capture's ConnectionFacts, or the
 * probe's ProbeFacts (kind 'probe'); renderers take either.
 */
export interface ConnectionReport<F extends ConnectionFacts | ProbeFacts = ConnectionFacts | ProbeFacts> {
  id: number
  client: Endpoint
  server: Endpoint
  startedAt: string
  endedAt: string
  facts: F
  checks: CheckResult[]
  /**
   * Worst status among the checks (fail > warn > pass > skip), except: a warn under --strict is
   * fail, and a connection with no fail whose essential handshake was not seen is inconclusive.
   */
  verdict: ConnectionVerdict
  /** Why the verdict is inconclusive, and how to capture again (only then). */
  inconclusive?: {reason: string; hint: string}
}

/** Where the analysed packets came from. */
export interface SourceInfo {
  kind: 'file' | 'stdin' | 'live' | 'probe'
  /** File path, '-' for stdin, interface name for live. */
  name: string
  capture?: CaptureSummary
  /** Where TLS keys came from (files, pcapng secrets blocks); never the secrets themselves. */
  keys?: KeySourceFacts
  /** Frames read, decoded and ignored (not TCP, not the Console port). */
  frames: number
  firstTs?: string
  lastTs?: string
  issues: Issue[]
}

/** What else was in the capture, for "no Console traffic" hints. */
export interface OtherTraffic {
  /** Top server endpoints seen on other ports, by packet count. */
  servers: Array<{ip: string; port: number; packets: number}>
}

export interface Summary {
  connections: number
  pass: number
  fail: number
  warn: number
  skip: number
  /** Connections whose verdict is inconclusive (present when there are any). */
  inconclusive?: number
  /**
   * fail > inconclusive > pass. pass: every connection passed (warnings allowed, unless
   * --strict); fail: a check failed (or warned under --strict) or no Console traffic;
   * inconclusive: no failure, but a connection's essential handshake was not in the capture.
   */
  verdict: 'pass' | 'fail' | 'inconclusive'
  /** Why the verdict is what it is, when not obvious (e.g. no Console traffic). */
  reason?: string
  /** How to capture again, when the verdict is inconclusive. */
  hint?: string
}

export interface AnalysisReport<F extends ConnectionFacts | ProbeFacts = ConnectionFacts | ProbeFacts> {
  schemaVersion: 1
  tool: {name: 'defender-check'; version: string}
  source: SourceInfo
  policy: Policy
  connections: Array<ConnectionReport<F>>
  otherTraffic?: OtherTraffic
  /** The view across connections: one entry per Defender (capture and watch; absent for a probe). */
  defenders?: DefenderView
  summary: Summary
}

/** A report analysed from packets (a file, stdin or a live capture). */
export type CaptureReport = AnalysisReport<ConnectionFacts>

/** Narrows a connection's facts to those of a capture (not a probe). */
export function isCaptureFacts(facts: ConnectionFacts | ProbeFacts): facts is ConnectionFacts {
  return !('kind' in facts && facts.kind === 'probe')
}
