/**
 * Validation against schema/report.schema.json (JSON Schema 2020-12), for tests and for users
 * who consume the JSON. The schema is read and compiled once, on first use. ajv is a
 * devDependency: nothing on the CLI's runtime path imports this module.
 */
import {readFileSync} from 'node:fs'
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js'
import addFormatsPlugin from 'ajv-formats'

const SCHEMA_URL = new URL('../../schema/report.schema.json', import.meta.url)

interface Validators {
  report: ValidateFunction
  ndjsonLine: ValidateFunction
}

let validators: Validators | undefined

function compile(): Validators {
  if (validators) return validators
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as {$id: string}
  const ajv = new Ajv2020({allErrors: true, strict: true})
  addFormatsPlugin.default(ajv)
  ajv.addSchema(schema)
  const report = ajv.getSchema(schema.$id)
  const ndjsonLine = ajv.getSchema(`${schema.$id}#/$defs/ndjsonLine`)
  if (!report || !ndjsonLine) throw new Error(`${SCHEMA_URL.pathname}: schema or its $defs/ndjsonLine did not compile`)
  validators = {report, ndjsonLine}
  return validators
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword}`)
}

/** Errors of a parsed JSON report against the schema, one line each (`/path message`); empty when valid. */
export function validateReport(value: unknown): string[] {
  const validate = compile().report
  return validate(value) ? [] : describe(validate.errors)
}

/** The same for one parsed NDJSON line (a connection line or the summary line). */
export function validateNdjsonLine(value: unknown): string[] {
  const validate = compile().ndjsonLine
  return validate(value) ? [] : describe(validate.errors)
}
