import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The second reporter prints one line per suite skipped for a missing corpus, and why.
    reporters: ['default', './test/helpers/skip-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Memory tests (test/regression/connection-limit.test.ts) collect garbage before measuring.
    execArgv: ['--expose-gc'],
  },
})
