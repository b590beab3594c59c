import {readFileSync} from 'node:fs'

/** The package version, read once; src/analysis and dist/analysis are both two levels below the package root. */
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}
).version
