// Owns pull paging (SPEC.md §5.9): a window on event_ts (lte defaults to request time, gte to lte
// minus retention), ascending sequence order, and a cursor that carries the head seen by the
// first page and the resolved filters, so following `next` walks one fixed snapshot.

import type { EventType } from '../../core/events.js'
import type { StoredEvent } from '../../store/store.js'
import { parseRfc3339Ms } from '../../util/rfc3339.js'
import { ProblemError } from '../problem.js'
import type { Services } from './services.js'

export interface PullRequest {
  readonly 'filter[ts][gte]'?: string
  readonly 'filter[ts][lte]'?: string
  readonly 'filter[type]'?: string
  readonly 'page[size]'?: number
  readonly 'page[after]'?: string
}

interface Snapshot {
  readonly gteMs: number
  readonly lteMs: number
  readonly type: EventType | null
  readonly headSequence: number
}

interface Cursor extends Snapshot {
  readonly afterSequence: number
}

export interface PullPage {
  readonly events: readonly StoredEvent[]
  /** Relative URL of the next page of the snapshot, or null when this page is the last. */
  readonly next: string | null
}

function badCursor(reason: string): ProblemError {
  return new ProblemError(400, 'Invalid page cursor', [
    { field: 'page[after]', rule: 'invalid', reason, source: 'query' },
  ])
}

function encodeCursor(cursor: Cursor): string {
  const { afterSequence, headSequence, gteMs, lteMs, type } = cursor
  return Buffer.from(JSON.stringify([afterSequence, headSequence, gteMs, lteMs, type])).toString('base64url')
}

function decodeCursor(text: string): Cursor {
  let fields: unknown
  try {
    fields = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw badCursor('is not a cursor this server made')
  }
  if (!Array.isArray(fields) || fields.length !== 5 || !fields.slice(0, 4).every(Number.isSafeInteger)) {
    throw badCursor('is not a cursor this server made')
  }
  const [afterSequence, headSequence, gteMs, lteMs, type] = fields as [number, number, number, number, EventType | null]
  return { afterSequence, headSequence, gteMs, lteMs, type }
}

function timeBound(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined
  const ms = parseRfc3339Ms(text)
  if (ms === null)
    throw new ProblemError(400, 'Invalid query parameters', [
      { field, rule: 'is_date_time', reason: 'must be an RFC 3339 timestamp', source: 'query' },
    ])
  return ms
}

function resolveFilters(query: PullRequest, nowMs: number, retentionMs: number): Omit<Snapshot, 'headSequence'> {
  const lteMs = timeBound(query['filter[ts][lte]'], 'filter[ts][lte]') ?? nowMs
  const gteMs = timeBound(query['filter[ts][gte]'], 'filter[ts][gte]') ?? lteMs - retentionMs
  return { gteMs, lteMs, type: (query['filter[type]'] as EventType | undefined) ?? null }
}

function sameFilters(a: Omit<Snapshot, 'headSequence'>, b: Omit<Snapshot, 'headSequence'>): boolean {
  return a.gteMs === b.gteMs && a.lteMs === b.lteMs && a.type === b.type
}

function nextLink(cursor: Cursor, size: number): string {
  const params = new URLSearchParams({
    'filter[ts][gte]': new Date(cursor.gteMs).toISOString(),
    'filter[ts][lte]': new Date(cursor.lteMs).toISOString(),
    ...(cursor.type ? { 'filter[type]': cursor.type } : {}),
    'page[size]': String(size),
    'page[after]': encodeCursor(cursor),
  })
  return `/v3/audit-logs?${params.toString()}`
}

export async function pullPage(services: Services, orgId: string, query: PullRequest): Promise<PullPage> {
  const size = query['page[size]'] ?? 20
  const given = query['page[after]']
  const filters = resolveFilters(query, services.clock.now(), services.config.retentionMs)
  let start: Cursor
  if (given === undefined)
    start = { ...filters, headSequence: await services.store.headSequence(orgId), afterSequence: 0 }
  else {
    start = decodeCursor(given)
    // Links carry the resolved window, so a cursor used with other filters is a client mistake.
    if (!sameFilters(start, filters)) throw badCursor('was made for other filters; follow the next link as given')
  }
  const events = await services.store.readEvents({
    orgId,
    afterSequence: start.afterSequence,
    throughSequence: start.headSequence,
    tsGte: start.gteMs,
    tsLte: start.lteMs,
    ...(start.type ? { type: start.type } : {}),
    limit: size + 1,
  })
  const page = events.slice(0, size)
  const last = page.at(-1)
  const next = events.length > size && last ? nextLink({ ...start, afterSequence: last.sequence }, size) : null
  return { events: page, next }
}
