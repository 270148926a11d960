// Owns the request and response bodies of the token and identity routes (SPEC.md §5.3).

import { Type } from 'typebox'
import { PageQuery } from './common.js'

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Enum(['admin', 'auditor', 'ingest']),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
)

export const TokenIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

export const ListTokensQuery = Type.Object(PageQuery, { additionalProperties: false })
