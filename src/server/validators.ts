// Owns request validation: JSON Schema compiled by Ajv with every error reported, unknown
// properties kept (they are 400s, never silently dropped), and types coerced only where the
// wire has no types: query strings and path parameters arrive as text.

import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchema, FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS; its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function compilerWith(coerceTypes: boolean): Ajv {
  return addFormats(
    new Ajv({ allErrors: true, removeAdditional: false, coerceTypes, useDefaults: false, strict: false }),
  )
}

export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const strict = compilerWith(false)
  const coercing = compilerWith(true)
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing
    return ajv.compile(schema as object)
  }
}
