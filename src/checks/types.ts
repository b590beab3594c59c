/**
 * Check contract: a check reads ConnectionFacts (with their derived facts) and the policy and
 * returns a CheckResult. No bytes, no I/O. Ids are a public contract (DESIGN.md, README).
 */
import type {CheckResult} from '../model/checks.js'
import type {ConnectionFacts} from '../model/facts.js'
import type {Policy} from '../model/policy.js'

export type Check = (facts: ConnectionFacts, policy: Policy) => CheckResult
