/**
 * Which step of the conversation a failing (or warning) check is about: each check id names the
 * events that can be its step, in order of preference, and the check's evidence frames pick
 * among them (refused: the RST; filtered: the last unanswered SYN; a rejected client
 * certificate: the client's final flight; an abort: the alert; a proxy's refusal: its answer).
 */
import type {CheckId, CheckResult} from '../model/checks.js'
import type {Side} from '../stream/types.js'
import type {TimelineEvent, TimelineEventKind} from './timeline/events.js'

interface StepMatcher {
  kind: TimelineEventKind
  from?: Side
  label?: string
  test?(event: TimelineEvent): boolean
}

const unanswered = (event: TimelineEvent) => event.detail === 'unanswered'
const failedVerification = (event: TimelineEvent) => event.verified === false
const fatal = (event: TimelineEvent) => event.detail?.startsWith('fatal') === true

const STEPS: Partial<Record<CheckId, StepMatcher[]>> = {
  'tcp.syn': [{kind: 'syn'}, {kind: 'syn-ack'}, {kind: 'rst'}],
  'tcp.syn-ack': [{kind: 'rst', from: 'server'}, {kind: 'syn-ack'}, {kind: 'syn'}],
  'tcp.ack': [{kind: 'rst'}, {kind: 'ack'}, {kind: 'syn-ack'}, {kind: 'syn'}],
  'tls.client-hello': [{kind: 'client-hello'}, {kind: 'not-tls'}],
  'tls.server-hello': [
    {kind: 'server-hello'},
    {kind: 'hello-retry-request'},
    {kind: 'alert', from: 'server'},
    {kind: 'encrypted-alert', from: 'server'},
    {kind: 'not-tls'},
    {kind: 'rst', from: 'server'},
    {kind: 'fin', from: 'server'},
    {kind: 'client-hello'},
  ],
  'tls.version': [{kind: 'server-hello'}, {kind: 'client-hello'}],
  'tls.certificate': [
    {kind: 'handshake', from: 'server', label: 'Certificate'},
    {kind: 'encrypted-flight', from: 'server'},
    {kind: 'alert', from: 'client'},
    {kind: 'encrypted-alert', from: 'client'},
    {kind: 'server-hello'},
  ],
  'tls.client-certificate': [
    {kind: 'handshake', from: 'client', label: 'Certificate'},
    {kind: 'encrypted-flight', from: 'client'},
    {kind: 'handshake', from: 'server', label: 'CertificateRequest'},
    {kind: 'alert', from: 'server'},
    {kind: 'encrypted-alert', from: 'server'},
  ],
  'tls.finished': [
    {kind: 'handshake', label: 'Finished', test: failedVerification},
    {kind: 'alert'},
    {kind: 'encrypted-alert'},
    {kind: 'handshake', label: 'Finished'},
    {kind: 'encrypted-flight'},
    {kind: 'rst'},
    {kind: 'fin'},
  ],
  'tls.alerts': [{kind: 'alert', test: fatal}, {kind: 'encrypted-alert'}, {kind: 'alert'}],
  // The proxy's refusal; without an answer, the request it left unanswered.
  'proxy.connect': [{kind: 'proxy-response'}, {kind: 'proxy-request'}, {kind: 'rst'}, {kind: 'fin'}],
  // Decrypted data that is not an HTTP request/response: the application data itself, or the
  // client's Finished when its first data record shares that frame (the ladder draws it there).
  'ws.upgrade': [{kind: 'http-response'}, {kind: 'http-request'}, {kind: 'application-data'}, {kind: 'handshake', from: 'client', label: 'Finished'}, {kind: 'rst'}, {kind: 'fin'}],
  'ws.session': [{kind: 'ws-close'}, {kind: 'ws-ping', test: unanswered}, {kind: 'rst'}, {kind: 'fin'}],
  // The injected RST, or the SYN-ACK that something other than the Console sent.
  'path.answered-by': [{kind: 'rst'}, {kind: 'syn-ack'}],
  'ws.ping': [{kind: 'ws-ping', test: unanswered}, {kind: 'ws-ping'}, {kind: 'ws-close'}],
  // The packet encapsulated twice, the one the firewall kept, where redirection stopped.
  'path.redirect': [{kind: 'hairpin-doubled'}, {kind: 'hairpin-lost'}, {kind: 'redirect-stopped'}, {kind: 'hairpin'}],
}

function matches(event: TimelineEvent, matcher: StepMatcher): boolean {
  return (
    event.kind === matcher.kind &&
    (matcher.from === undefined || event.from === matcher.from) &&
    (matcher.label === undefined || event.label === matcher.label) &&
    (matcher.test === undefined || matcher.test(event))
  )
}

function inFrames(event: TimelineEvent, frames: Set<number>): boolean {
  for (let frame = event.frame; frame <= (event.lastFrame ?? event.frame); frame++) if (frames.has(frame)) return true
  return false
}

/**
 * The event a failing/warning check is drawn at: the preferred kinds among the check's evidence
 * frames, then the preferred kinds anywhere, then anything in the evidence, then the last event.
 */
export function stepOf(events: TimelineEvent[], check: CheckResult): TimelineEvent | undefined {
  const matchers = STEPS[check.id] ?? []
  const frames = new Set(check.evidence.frames)
  const last = (pick: (event: TimelineEvent) => boolean) => {
    for (let i = events.length - 1; i >= 0; i--) if (pick(events[i])) return events[i]
    return undefined
  }
  for (const matcher of matchers) {
    const found = last((e) => matches(e, matcher) && inFrames(e, frames))
    if (found) return found
  }
  for (const matcher of matchers) {
    const found = last((e) => matches(e, matcher))
    if (found) return found
  }
  return last((e) => inFrames(e, frames)) ?? events[events.length - 1]
}

/** Adds a mark for every failing or warning check to the event it is about. */
export function markFailingSteps(events: TimelineEvent[], checks: CheckResult[]): void {
  for (const check of checks) {
    if (check.status !== 'fail' && check.status !== 'warn') continue
    const step = stepOf(events, check)
    if (!step) continue
    step.marks.push({checkId: check.id, status: check.status, summary: check.summary, ...(check.hint !== undefined ? {hint: check.hint} : {})})
  }
}
