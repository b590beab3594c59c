/** The library under the CLI. Knows nothing of oclif. */
export {analyzeCapture, type AnalyzeCaptureOptions} from './analysis/analyze.js'
export {Analyzer, type AnalyzerOptions} from './analysis/analyzer.js'
export {buildPolicy, DEFAULT_CONSOLE_PORT, type PolicyInput} from './analysis/policy.js'
export type * from './analysis/types.js'
export type * from './checks/types.js'
export {CaptureFormatError} from './capture/types.js'
export {InputError, UsageError, describeUserError} from './errors.js'
