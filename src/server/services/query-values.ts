// Owns the query-string values several read routes share (pull, counts, stream): the 400 for a bad
// one, RFC 3339 times, and the inclusive event_ts window (SPEC.md §5.9, §5.9a, §5.10).

import type { Rule } from '../../core/problem-fields.js'
import { parseRfc3339Ms } from '../../util/rfc3339.js'
import type { ProblemError } from '../problem.js'
import { badRequest } from '../problem.js'

export function invalidQuery(field: string, reason: string, rule: Rule): ProblemError {
  return badRequest([{ field, rule, reason, source: 'query' }], 'Invalid query parameters')
}

/** Epoch ms of an RFC 3339 query value; a value that is none is a 400 on `field`. */
export function queryTime(text: string, field: string): number {
  const ms = parseRfc3339Ms(text)
  if (ms === null) throw invalidQuery(field, 'must be an RFC 3339 timestamp', 'is_date_time')
  return ms
}

/** An event_ts window whose start lies after its end is a 400: an empty answer would hide the typo. */
export function checkTimeWindow(gteMs: number, lteMs: number): void {
  if (gteMs > lteMs) throw invalidQuery('filter[ts][gte]', 'must not be after filter[ts][lte]', 'invalid')
}
