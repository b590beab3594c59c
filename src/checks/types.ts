/**
 * Check contract: a check reads ConnectionFacts (with their derived facts) and the policy and
 * returns a CheckResult. No bytes, no I/O. Ids are a public contract (DESIGN.md, README).
 */
import type {CheckResult} from '../model/checks.js'
import type {Policy} from '../model/policy.js'

/**
 * A check over facts of type F: (facts, policy) → CheckResult. F is ConnectionFacts for the
 * capture checks and ProbeFacts (what the active probe did and saw, phase by phase) for the
 * probe's (src/checks/probe/).
 */
export type CheckOf<F> = (facts: F, policy: Policy) => CheckResult
