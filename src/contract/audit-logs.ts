// Owns the query parameters of the pull API (SPEC.md §5.9) and the query and response body of
// the counts API (SPEC.md §5.9a).

import type { Static } from 'typebox'
import { Type } from 'typebox'
import { EVENT_TYPES } from '../core/events.js'

const Cursor = Type.String({ minLength: 1, maxLength: 512 })

export const PullQuery = Type.Object(
  {
    'filter[ts][gte]': Type.Optional(Type.String({ format: 'date-time' })),
    'filter[ts][lte]': Type.Optional(Type.String({ format: 'date-time' })),
    'filter[type]': Type.Optional(Type.Enum([...EVENT_TYPES])),
    'page[size]': Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    'page[after]': Type.Optional(Cursor),
    'page[before]': Type.Optional(Cursor),
  },
  { additionalProperties: false },
)

const COUNT_INTERVALS = ['1m', '1h', '1d'] as const
export type CountInterval = (typeof COUNT_INTERVALS)[number]

export const CountsQuery = Type.Object(
  {
    'filter[ts][gte]': Type.String({ format: 'date-time' }),
    'filter[ts][lte]': Type.String({ format: 'date-time' }),
    'filter[type]': Type.Optional(Type.Enum([...EVENT_TYPES])),
    interval: Type.Enum([...COUNT_INTERVALS]),
  },
  { additionalProperties: false },
)
export type CountsRequest = Static<typeof CountsQuery>

export const CountsBody = Type.Object(
  {
    data: Type.Array(
      Type.Object(
        {
          /** The bucket's start, UTC whole seconds (`2026-11-26T08:00:00Z`). */
          start: Type.String(),
          count: Type.Integer(),
        },
        { additionalProperties: false },
      ),
    ),
    total: Type.Integer(),
  },
  { additionalProperties: false },
)
export type CountsResponse = Static<typeof CountsBody>
