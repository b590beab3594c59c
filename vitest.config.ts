import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Memory tests (test/regression/connection-limit.test.ts) collect garbage before measuring.
    execArgv: ['--expose-gc'],
  },
})
