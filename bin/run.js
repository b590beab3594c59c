#!/usr/bin/env node
// oclif checks the running Node against its own "engines" (>=18) with semver at import, ~20 ms
// of every run's start; ours (>=20, package.json) is stricter and npm checks it at install.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute, settings} = await import('@oclif/core')

// The built CLI runs dist/ only. With NODE_ENV=development or test (common on a developer's
// machine) oclif would otherwise look for TypeScript sources to run instead, and an installed
// package, which has none, warns "Could not find typescript" on every run.
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
