// Owns request validation: JSON Schema compiled by Ajv with every error reported, unknown
// properties kept (they are 400s, never silently dropped), and types coerced only where the
// wire has no types: query strings and path parameters arrive as text.

import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchema, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'

// ajv-formats is CommonJS; its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function compilerWith(coerceTypes: boolean): Ajv {
  return addFormats(
    new Ajv({ allErrors: true, removeAdditional: false, coerceTypes, useDefaults: false, strict: false }),
  )
}

/** Decimal digits, as an integer is written: Ajv's coercion would also take `0x10`, `1e2`, `+5`, ` 5`. */
const DECIMAL_INTEGER = /^-?[0-9]+$/

interface ObjectSchema {
  readonly properties?: Record<string, { readonly type?: unknown }>
}

/** The top-level properties a query or path schema declares as integers. */
function integerProperties(schema: object): string[] {
  const properties = (schema as ObjectSchema).properties ?? {}
  return Object.keys(properties).filter((key) => properties[key]?.type === 'integer')
}

type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null }

/**
 * A text-to-integer check ahead of Ajv's coercion, reporting like Ajv (`type` integer, so the
 * problem says `is_integer`) for a value that is not plainly written decimal digits.
 */
function withPlainIntegers(validate: Validate, keys: readonly string[]): Validate {
  const checked: Validate = (data) => {
    const values = (data ?? {}) as Record<string, unknown>
    const errors = keys
      .filter((key) => typeof values[key] === 'string' && !DECIMAL_INTEGER.test(values[key] as string))
      .map((key) => ({
        keyword: 'type',
        instancePath: `/${key}`,
        schemaPath: `#/properties/${key}/type`,
        params: { type: 'integer' },
        message: 'must be integer',
      }))
    if (errors.length > 0) {
      checked.errors = errors
      return false
    }
    const valid = validate(data)
    checked.errors = validate.errors ?? null
    return valid
  }
  return checked
}

export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const strict = compilerWith(false)
  const coercing = compilerWith(true)
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return strict.compile(schema as object)
    const validate = coercing.compile(schema as object)
    const keys = integerProperties(schema as object)
    return keys.length === 0 ? validate : withPlainIntegers(validate, keys)
  }
}
