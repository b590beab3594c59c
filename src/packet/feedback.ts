/**
 * How a layer decoder reports what it could not decode, gopacket's DecodeFeedback: a header cut
 * short sets `truncated`, a malformed one adds an Issue. Decoders never throw on bad bytes.
 * `Packet` satisfies this interface, so the driver passes the packet being built.
 */
import type {Issue} from '../issues.js'

export interface DecodeFeedback {
  /** Frame number the issues are attributed to. */
  frame: number
  truncated: boolean
  issues?: Issue[]
}

export function noteIssue(feedback: DecodeFeedback, code: string, message: string): void {
  const issue: Issue = {code, severity: 'warn', message, frame: feedback.frame}
  if (feedback.issues) feedback.issues.push(issue)
  else feedback.issues = [issue]
}
