/**
 * Check contract: a check reads ConnectionFacts (with their derived facts) and the policy and
 * returns a CheckResult. No bytes, no I/O. Ids are a public contract (DESIGN.md, README).
 */
import type {CheckResult} from '../model/checks.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {Policy} from '../model/policy.js'
import type {ProbeFacts} from '../model/probe.js'

export type Check = (facts: ConnectionFacts, policy: Policy) => CheckResult

/** A check of the active probe: it reads what the probe did and saw (ProbeFacts), phase by phase. */
export type ProbeCheck = (facts: ProbeFacts, policy: Policy) => CheckResult
