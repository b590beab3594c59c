#!/usr/bin/env node
// oclif checks the running Node against its own "engines" (>=18) with semver at import, ~20 ms
// of every run's start; ours (>=20, package.json) is stricter and npm checks it at install.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute} = await import('@oclif/core')

await execute({dir: import.meta.url})
