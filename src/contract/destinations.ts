// Owns the request and response bodies of the destination routes (SPEC.md §5.7); `authorization`
// is write-only, so no response schema has it.

import { Type } from 'typebox'
import { PageQuery, ServerTime, Uuid } from './common.js'
import { LogFormatField, NullableString } from './webhook.js'

const DestinationName = Type.String({ minLength: 1, maxLength: 255 })
const NameFilter = Type.Optional(Type.String({ minLength: 1, maxLength: 255 }))

export const CreateDestinationBody = Type.Object(
  {
    name: DestinationName,
    endpoint: Type.String(),
    log_format: LogFormatField,
    authorization: Type.String(),
    skip_ssl_verification: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const PatchDestinationBody = Type.Object(
  {
    name: Type.Optional(DestinationName),
    endpoint: Type.Optional(Type.String()),
    log_format: Type.Optional(LogFormatField),
    authorization: Type.Optional(Type.String()),
    skip_ssl_verification: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const DestinationIdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const ListDestinationsQuery = Type.Object(
  {
    ...PageQuery,
    'filter[name]': NameFilter,
    'filter[name][eq]': NameFilter,
    'filter[name][contains]': NameFilter,
  },
  { additionalProperties: false },
)

export const DestinationBody = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    endpoint: Type.String(),
    log_format: LogFormatField,
    skip_ssl_verification: Type.Boolean(),
    created_at: ServerTime,
    updated_at: ServerTime,
  },
  { additionalProperties: false },
)

export const DestinationListBody = Type.Object(
  {
    data: Type.Array(DestinationBody),
    meta: Type.Object(
      { next: NullableString, previous: NullableString, size: Type.Integer() },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
