// Owns where a live stream starts (SPEC.md §5.10): its query and Last-Event-ID as checked values,
// the sequence it continues after, and the pruning gap its resume point may have fallen into.

import type { EventType } from '../../core/events.js'
import type { LineFormat } from '../../core/extract.js'
import type { Store } from '../../store/store.js'
import { ProblemError } from '../problem.js'
import { invalidQuery, queryTime } from './query-values.js'

/** The stream's query as the route schema has already shaped it. */
export interface StreamQuery {
  readonly format?: LineFormat
  readonly 'filter[type]'?: EventType
  readonly 'filter[ts][gte]'?: string
  readonly last_event_id?: string
}

export interface StreamParams {
  readonly format: LineFormat
  readonly type: EventType | null
  /** Inclusive lower bound on event_ts, epoch ms. */
  readonly tsGteMs: number | null
  /** The sequence to resume after, and where it came from (the header wins over the query). */
  readonly resume: { readonly afterSequence: number; readonly source: 'header' | 'query' } | null
}

/** A resume point that fell into pruned events: after `after`, the next event is `next`, not `after` + 1. */
export interface PruningGap {
  readonly after: number
  readonly next: number
}

export interface StreamStart {
  /** The last sequence considered sent: the stream continues with the events after it. */
  readonly afterSequence: number
  readonly gap: PruningGap | null
}

const SEQUENCE_DIGITS = /^(0|[1-9][0-9]*)$/

function sequenceOf(text: string): number | null {
  const value = Number(text)
  return SEQUENCE_DIGITS.test(text) && Number.isSafeInteger(value) ? value : null
}

/** The `Last-Event-ID` header's sequence; an empty header counts as absent, as EventSource never sends one. */
function headerSequence(header: string | string[] | undefined): number | null {
  const text = Array.isArray(header) ? header.join(',') : header
  if (text === undefined || text === '') return null
  const sequence = sequenceOf(text)
  if (sequence === null) {
    throw new ProblemError(
      400,
      `Last-Event-ID ${JSON.stringify(text)} is not a sequence number; send the id of the last event received`,
    )
  }
  return sequence
}

function resumeOf(query: StreamQuery, header: string | string[] | undefined): StreamParams['resume'] {
  const fromHeader = headerSequence(header)
  if (fromHeader !== null) return { afterSequence: fromHeader, source: 'header' }
  if (query.last_event_id === undefined) return null
  const fromQuery = sequenceOf(query.last_event_id)
  if (fromQuery === null) throw invalidQuery('last_event_id', 'must be a sequence number', 'matches_regex')
  return { afterSequence: fromQuery, source: 'query' }
}

export function streamParamsOf(query: StreamQuery, lastEventIdHeader: string | string[] | undefined): StreamParams {
  const tsGte = query['filter[ts][gte]']
  const tsGteMs = tsGte === undefined ? null : queryTime(tsGte, 'filter[ts][gte]')
  return {
    format: query.format ?? 'json',
    type: query['filter[type]'] ?? null,
    tsGteMs,
    resume: resumeOf(query, lastEventIdHeader),
  }
}

/** The gap between a resume point and the first event still available, or null when there is none. */
export function pruningGap(lastEventId: number, firstAvailableSequence: number): PruningGap | null {
  return lastEventId + 1 < firstAvailableSequence ? { after: lastEventId, next: firstAvailableSequence } : null
}

/** The org's first retained sequence; when everything was pruned, the next one to be committed. */
async function firstAvailableSequence(store: Store, orgId: string, headSequence: number): Promise<number> {
  const [first] = await store.readEvents({ orgId, afterSequence: 0, throughSequence: headSequence, limit: 1 })
  return first?.sequence ?? headSequence + 1
}

/**
 * Where the stream starts: after the resume point; else at the first retained event when
 * filter[ts][gte] is given (it filters, it never positions); else after the head at connect.
 * A resume point above the head is a 400: the id did not come from this org's stream.
 */
export async function streamStartOf(store: Store, orgId: string, params: StreamParams): Promise<StreamStart> {
  const headSequence = await store.headSequence(orgId)
  if (params.resume === null) return { afterSequence: params.tsGteMs === null ? headSequence : 0, gap: null }
  const { afterSequence, source } = params.resume
  if (afterSequence > headSequence) {
    const reason = `is above the org's latest sequence ${headSequence}`
    if (source === 'query') throw invalidQuery('last_event_id', reason, 'invalid')
    throw new ProblemError(400, `Last-Event-ID ${afterSequence} ${reason}; send the id of the last event received`)
  }
  const gap = pruningGap(afterSequence, await firstAvailableSequence(store, orgId, headSequence))
  return { afterSequence: gap === null ? afterSequence : gap.next - 1, gap }
}
