// Owns pull paging (SPEC.md §5.9): a window on event_ts (lte defaults to request time, gte to lte
// minus retention), ascending sequence order, and cursors that carry the head seen by the first
// page and the resolved filters, so following `next` and `previous` walks one fixed snapshot.

import type { EventType } from '../../core/events.js'
import type { EventQuery, StoredEvent } from '../../store/store.js'
import { ProblemError } from '../problem.js'
import { checkTimeWindow, queryTime } from './query-values.js'
import type { Services } from './services.js'

export interface PullRequest {
  readonly 'filter[ts][gte]'?: string
  readonly 'filter[ts][lte]'?: string
  readonly 'filter[type]'?: string
  readonly 'page[size]'?: number
  readonly 'page[after]'?: string
  readonly 'page[before]'?: string
}

interface Filters {
  readonly gteMs: number
  readonly lteMs: number
  readonly type: EventType | null
}

interface Snapshot extends Filters {
  readonly headSequence: number
}

/** A position in a snapshot: a page continues after it (page[after]) or ends before it (page[before]). */
interface Cursor extends Snapshot {
  readonly sequence: number
}

type Direction = 'after' | 'before'

export interface PullPage {
  readonly events: readonly StoredEvent[]
  /** Relative URL of the next page of the snapshot, or null when no later match exists. */
  readonly next: string | null
  /** Relative URL of the previous page of the snapshot, or null when no earlier match exists. */
  readonly previous: string | null
}

const DEFAULT_PAGE_SIZE = 20

function badCursor(direction: Direction, reason: string): ProblemError {
  return new ProblemError(400, 'Invalid page cursor', [
    { field: `page[${direction}]`, rule: 'invalid', reason, source: 'query' },
  ])
}

function encodeCursor(cursor: Cursor): string {
  const { sequence, headSequence, gteMs, lteMs, type } = cursor
  return Buffer.from(JSON.stringify([sequence, headSequence, gteMs, lteMs, type])).toString('base64url')
}

function decodeCursor(text: string, direction: Direction): Cursor {
  let fields: unknown
  try {
    fields = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw badCursor(direction, 'is not a cursor this server made')
  }
  if (!Array.isArray(fields) || fields.length !== 5 || !fields.slice(0, 4).every(Number.isSafeInteger)) {
    throw badCursor(direction, 'is not a cursor this server made')
  }
  const [sequence, headSequence, gteMs, lteMs, type] = fields as [number, number, number, number, EventType | null]
  return { sequence, headSequence, gteMs, lteMs, type }
}

function timeBound(text: string | undefined, field: string): number | undefined {
  return text === undefined ? undefined : queryTime(text, field)
}

function resolveFilters(query: PullRequest, nowMs: number, retentionMs: number): Filters {
  const lteMs = timeBound(query['filter[ts][lte]'], 'filter[ts][lte]') ?? nowMs
  const gteMs = timeBound(query['filter[ts][gte]'], 'filter[ts][gte]') ?? lteMs - retentionMs
  checkTimeWindow(gteMs, lteMs)
  return { gteMs, lteMs, type: (query['filter[type]'] as EventType | undefined) ?? null }
}

function sameFilters(a: Filters, b: Filters): boolean {
  return a.gteMs === b.gteMs && a.lteMs === b.lteMs && a.type === b.type
}

function link(cursor: Cursor, direction: Direction, size: number): string {
  const params = new URLSearchParams({
    'filter[ts][gte]': new Date(cursor.gteMs).toISOString(),
    'filter[ts][lte]': new Date(cursor.lteMs).toISOString(),
    ...(cursor.type ? { 'filter[type]': cursor.type } : {}),
    'page[size]': String(size),
    [`page[${direction}]`]: encodeCursor(cursor),
  })
  return `/v3/audit-logs?${params.toString()}`
}

/** Where the page starts: a given cursor (bound to the filters) or the start of a new snapshot. */
async function positionOf(
  services: Services,
  orgId: string,
  query: PullRequest,
  filters: Filters,
): Promise<{ readonly direction: Direction; readonly cursor: Cursor }> {
  const after = query['page[after]']
  const before = query['page[before]']
  if (after !== undefined && before !== undefined) {
    throw badCursor('before', 'cannot be combined with page[after]; follow one link as given')
  }
  const direction: Direction = before === undefined ? 'after' : 'before'
  const given = after ?? before
  if (given === undefined) {
    return { direction, cursor: { ...filters, headSequence: await services.store.headSequence(orgId), sequence: 0 } }
  }
  const cursor = decodeCursor(given, direction)
  // Links carry the resolved window, so a cursor used with other filters is a client mistake.
  if (!sameFilters(cursor, filters)) throw badCursor(direction, 'was made for other filters; follow the link as given')
  return { direction, cursor }
}

/** Reads matches of the cursor's snapshot and filters within the given sequence bounds. */
function readSnapshot(
  services: Services,
  orgId: string,
  snapshot: Snapshot,
  bounds: Pick<EventQuery, 'afterSequence' | 'beforeSequence' | 'limit'>,
): Promise<StoredEvent[]> {
  return services.store.readEvents({
    orgId,
    throughSequence: snapshot.headSequence,
    tsGte: snapshot.gteMs,
    tsLte: snapshot.lteMs,
    ...(snapshot.type ? { type: snapshot.type } : {}),
    ...bounds,
  })
}

async function pageAfter(services: Services, orgId: string, cursor: Cursor, size: number): Promise<PullPage> {
  const read = await readSnapshot(services, orgId, cursor, { afterSequence: cursor.sequence, limit: size + 1 })
  const events = read.slice(0, size)
  const first = events[0]?.sequence ?? cursor.sequence + 1
  const last = events.at(-1)?.sequence ?? cursor.sequence
  const earlier =
    cursor.sequence > 0 &&
    (await readSnapshot(services, orgId, cursor, { afterSequence: 0, beforeSequence: first, limit: 1 })).length > 0
  return {
    events,
    next: read.length > size ? link({ ...cursor, sequence: last }, 'after', size) : null,
    previous: earlier ? link({ ...cursor, sequence: first }, 'before', size) : null,
  }
}

async function pageBefore(services: Services, orgId: string, cursor: Cursor, size: number): Promise<PullPage> {
  const read = await readSnapshot(services, orgId, cursor, {
    afterSequence: 0,
    beforeSequence: cursor.sequence,
    limit: size + 1,
  })
  const events = read.slice(-size)
  const first = events[0]?.sequence ?? cursor.sequence
  const last = events.at(-1)?.sequence ?? cursor.sequence - 1
  const later = (await readSnapshot(services, orgId, cursor, { afterSequence: last, limit: 1 })).length > 0
  return {
    events,
    next: later ? link({ ...cursor, sequence: last }, 'after', size) : null,
    previous: read.length > size ? link({ ...cursor, sequence: first }, 'before', size) : null,
  }
}

export async function pullPage(services: Services, orgId: string, query: PullRequest): Promise<PullPage> {
  const size = query['page[size]'] ?? DEFAULT_PAGE_SIZE
  const filters = resolveFilters(query, services.clock.now(), services.config.retentionMs)
  const { direction, cursor } = await positionOf(services, orgId, query, filters)
  return direction === 'after' ? pageAfter(services, orgId, cursor, size) : pageBefore(services, orgId, cursor, size)
}
