// Owns the query parameters of the pull API (SPEC.md §5.9).

import { Type } from 'typebox'
import { EVENT_TYPES } from '../core/events.js'

export const PullQuery = Type.Object(
  {
    'filter[ts][gte]': Type.Optional(Type.String({ format: 'date-time' })),
    'filter[ts][lte]': Type.Optional(Type.String({ format: 'date-time' })),
    'filter[type]': Type.Optional(Type.Enum([...EVENT_TYPES])),
    'page[size]': Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    'page[after]': Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  { additionalProperties: false },
)
