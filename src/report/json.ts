/**
 * The report as JSON, the contract in schema/report.schema.json. Certificates are summarised by
 * their facts (subject, SANs, validity, fingerprint): their DER (derBase64) is kept in memory
 * for chain verification and never written out.
 */
import type {AnalysisReport} from '../analysis/types.js'

/** JSON.stringify replacer dropping every key named derBase64, at any depth. */
export function withoutDer(key: string, value: unknown): unknown {
  return key === 'derBase64' ? undefined : value
}

export function renderJson(report: AnalysisReport): string {
  return JSON.stringify(report, withoutDer, 2)
}
