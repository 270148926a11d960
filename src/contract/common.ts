// Owns the small schema pieces many routes share: UUIDs, server times, page parameters.

import { Type } from 'typebox'

export const Uuid = Type.String({ format: 'uuid' })

/** Server-set time, UTC with milliseconds (SPEC.md §5.1). */
export const ServerTime = Type.String()

export const NEVER = '0001-01-01T00:00:00Z'

/** A server time for epoch ms, or NEVER for something that has not happened. */
export function serverTime(ms: number | null): string {
  return ms === null ? NEVER : new Date(ms).toISOString()
}

export const PageQuery = {
  'page[size]': Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  'page[after]': Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  'page[before]': Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
}
