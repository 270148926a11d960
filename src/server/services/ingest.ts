// Owns ingest (SPEC.md §5.4): the raw body (NDJSON or a JSON array, gzip allowed, 5 MiB after
// decompression) is parsed and every item validated first; a valid batch is signed and committed
// in one transaction with consecutive sequences, and acknowledged only after that commit. An
// Idempotency-Key is committed in that same transaction and replays the first response for 24 h.

import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { appendSig, signJsonLine, unsignedJsonLine } from '../../core/canonical-json.js'
import type { ValidIngestItem } from '../../core/ingest-item.js'
import { buildEvent, validateIngestItem } from '../../core/ingest-item.js'
import { findDuplicateKey } from '../../core/json-duplicates.js'
import type { InvalidParameter } from '../../core/problem-fields.js'
import type { Signer } from '../../core/signing.js'
import { drawTraceId } from '../../core/trace-id.js'
import type { CommittedEvent, EventDraft, IdempotencyClaim, IdempotentResponse } from '../../store/store.js'
import { formatUtcSeconds, parseRfc3339Ms } from '../../util/rfc3339.js'
import type { TraceId } from '../../util/u64.js'
import { mediaTypeOf, requireUtf8Charset } from '../media-type.js'
import { badRequest, decodeUtf8Body, ProblemError, unparsableBody } from '../problem.js'
import type { Services } from './services.js'

export const MAX_INGEST_BYTES = 5 * 1024 * 1024
export const MAX_ITEMS = 1000
/** How long an Idempotency-Key replays its first response (SPEC.md §5.4, §8). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000
const IDEMPOTENCY_KEY_MAX_LENGTH = 255
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
const CREATED = 201

function tooLarge(): ProblemError {
  return new ProblemError(413, `The request body is larger than ${MAX_INGEST_BYTES} bytes once decompressed`)
}

/** The body's bytes after Content-Encoding: identity or gzip, capped at 5 MiB (SPEC.md §5.1). */
export function decodeBody(raw: Buffer, contentEncoding: string | undefined): Buffer {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity' || encoding === '') return raw
  if (encoding !== 'gzip')
    throw new ProblemError(415, `Content-Encoding ${encoding} is not supported; send gzip or none`)
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_INGEST_BYTES })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge()
    throw unparsableBody('Could not decompress the gzip request body')
  }
}

type ParsedItem = { readonly ok: true; readonly value: unknown } | { readonly ok: false }

function parseItem(text: string): ParsedItem {
  try {
    const value: unknown = JSON.parse(text)
    return findDuplicateKey(text) === null ? { ok: true, value } : { ok: false }
  } catch {
    return { ok: false }
  }
}

/** The items of an NDJSON body: one per non-blank line (a `\r` before `\n` is ignored). */
function ndjsonItems(text: string): ParsedItem[] {
  return text
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.trim() !== '')
    .map(parseItem)
}

function jsonArrayItems(text: string): ParsedItem[] {
  const parsed = parseItem(text)
  if (!parsed.ok) throw unparsableBody()
  if (!Array.isArray(parsed.value)) {
    throw badRequest([{ field: 'body', rule: 'type', reason: 'must be a JSON array of events', source: 'body' }])
  }
  return parsed.value.map((value: unknown) => ({ ok: true, value }))
}

export function parseItems(body: Buffer, contentType: string | undefined): ParsedItem[] {
  requireUtf8Charset(contentType)
  const text = decodeUtf8Body(body)
  // No body at all holds no events, whatever its Content-Type claims.
  const items =
    text.trim() === ''
      ? []
      : mediaTypeOf(contentType) === 'application/x-ndjson'
        ? ndjsonItems(text)
        : jsonArrayItems(text)
  if (items.length === 0) {
    throw badRequest([
      { field: 'body', rule: 'min_items', reason: 'must hold at least 1 event', minimum: 1, source: 'body' },
    ])
  }
  if (items.length > MAX_ITEMS) {
    throw badRequest([
      {
        field: 'body',
        rule: 'max_items',
        reason: `must hold at most ${MAX_ITEMS} events`,
        maximum: MAX_ITEMS,
        source: 'body',
      },
    ])
  }
  return items
}

/**
 * Validates every item; any problem anywhere rejects the whole batch. An item without `event_ts`
 * gets `arrivalTs`, the request's arrival (SPEC.md §3.5), as the request's own events do.
 */
export function validateItems(
  items: readonly ParsedItem[],
  orgId: string,
  nowMs: number,
  retentionMs: number,
  arrivalTs: string = formatUtcSeconds(nowMs),
): ValidIngestItem[] {
  const context = { orgId, nowMs, retentionMs, arrivalTs }
  const valid: ValidIngestItem[] = []
  const problems: InvalidParameter[] = []
  items.forEach((item, index) => {
    if (!item.ok) {
      problems.push({ field: `items[${index}]`, rule: 'type', reason: 'is not a valid JSON object', source: 'body' })
      return
    }
    const result = validateIngestItem(item.value, index, context)
    if (result.ok) valid.push(result.item)
    else problems.push(...result.problems)
  })
  if (problems.length > 0) throw badRequest(problems)
  return valid
}

/** An ingest request's Idempotency-Key and the fingerprint of what was sent with it. */
interface IdempotentRequest {
  readonly key: string
  /** Lowercase hex SHA-256 of the media type, the Content-Encoding and the body bytes as sent. */
  readonly requestHash: string
}

/** A response ready to send: its body goes out verbatim, so a replay is byte for byte the original. */
export interface IngestResponse {
  readonly status: number
  readonly body: string
  readonly replayed: boolean
}

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

function invalidKey(reason: string, bound: Pick<InvalidParameter, 'rule' | 'minimum' | 'maximum'>): ProblemError {
  // InvalidParameter knows only body and query; the header decides how the body is handled, so `body`.
  const parameter: InvalidParameter = { field: 'Idempotency-Key', reason, source: 'body', ...bound }
  return badRequest([parameter], 'Invalid Idempotency-Key header')
}

/** SPEC.md §5.4: 1–255 printable ASCII characters (space included); null when the header is absent. */
function idempotencyKeyOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null
  const key = headerText(header)
  if (key.length === 0) throw invalidKey('must not be empty', { rule: 'min_length', minimum: 1 })
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    const reason = `must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`
    throw invalidKey(reason, { rule: 'max_length', maximum: IDEMPOTENCY_KEY_MAX_LENGTH })
  }
  if (!PRINTABLE_ASCII.test(key)) {
    throw invalidKey('must contain only printable ASCII characters', { rule: 'matches_regex' })
  }
  return key
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '')
}

/** The request's Idempotency-Key with the hash of what was sent, or null without the header. */
export function idempotentRequestOf(headers: RequestHeaders, rawBody: Buffer): IdempotentRequest | null {
  const key = idempotencyKeyOf(headers['idempotency-key'])
  if (key === null) return null
  const hash = createHash('sha256')
  // Equivalent spellings of the same headers (case, `charset=utf-8`, `identity`) are one request.
  const contentType = mediaTypeOf(headerText(headers['content-type']))
  const encoding = headerText(headers['content-encoding']).trim().toLowerCase()
  const headerValues = [contentType, encoding === 'identity' ? '' : encoding]
  // JSON text of the header values holds no raw newline, so headers and body bytes cannot run together.
  hash.update(`${JSON.stringify(headerValues)}\n`)
  hash.update(rawBody)
  return { key, requestHash: hash.digest('hex') }
}

function expiredAtOrBeforeMs(services: Services): number {
  return services.clock.now() - IDEMPOTENCY_KEY_TTL_MS
}

/** The first response again for the same request; a 409 when the key came with another request. */
function replayOf(earlier: IdempotentResponse, request: IdempotentRequest): IngestResponse {
  if (earlier.requestHash !== request.requestHash) {
    throw new ProblemError(
      409,
      'Idempotency-Key was used with a different request body; send a new key for a different batch',
    )
  }
  return { status: earlier.status, body: earlier.body, replayed: true }
}

/** The replay of an earlier request with this key, or null when the key is new (or expired). */
export async function replayFor(
  services: Services,
  orgId: string,
  request: IdempotentRequest,
): Promise<IngestResponse | null> {
  const earlier = await services.store.findIdempotentResponse(orgId, request.key, expiredAtOrBeforeMs(services))
  return earlier === null ? null : replayOf(earlier, request)
}

/** One trace id per distinct trace_ref, a fresh one for every other item. */
function traceIdsFor(items: readonly ValidIngestItem[]): TraceId[] {
  const byRef = new Map<string, TraceId>()
  return items.map(({ traceRef }) => {
    if (traceRef === undefined) return drawTraceId()
    const shared = byRef.get(traceRef) ?? drawTraceId()
    byRef.set(traceRef, shared)
    return shared
  })
}

/** Drafts signed in the commit transaction, for the commit time the store assigns. */
function signedAtCommit(orgId: string, items: readonly ValidIngestItem[], signer: Signer): EventDraft[] {
  const traceIds = traceIdsFor(items)
  return items.map((item, index) => {
    const traceId = traceIds[index] as TraceId
    return {
      type: item.type,
      eventTsMs: parseRfc3339Ms(item.draft.event_ts) ?? 0,
      traceId,
      render: (rt) => signJsonLine(buildEvent(item, { orgId, traceId, rt }), signer),
    }
  })
}

/**
 * Drafts whose lines the signing workers signed ahead for `rt`, the commit time the writer
 * assigned. Should the store commit with another rt, the line is signed again then, on this thread.
 */
async function presignedDrafts(services: Services, orgId: string, items: readonly ValidIngestItem[], rt: number) {
  const key = await services.signers.activeKey(orgId)
  const traceIds = traceIdsFor(items)
  const events = items.map((item, index) => buildEvent(item, { orgId, traceId: traceIds[index] as TraceId, rt }))
  const unsigned = events.map(unsignedJsonLine)
  const signatures = await services.signers.signOnWorkers(key, unsigned)
  return events.map(
    (event, index): EventDraft => ({
      type: event.type,
      eventTsMs: parseRfc3339Ms(event.event_ts) ?? 0,
      traceId: event.trace_id,
      render: (committedRt) =>
        committedRt === rt
          ? appendSig(unsigned[index] as string, signatures[index] as string)
          : signJsonLine({ ...event, rt: committedRt }, key.signer),
    }),
  )
}

/** The 201 body (SPEC.md §5.4) for the committed events of a non-empty batch. */
function acknowledgementOf(committed: readonly CommittedEvent[]): string {
  const first = committed[0]
  const last = committed.at(-1)
  if (!first || !last) throw new Error('the store committed no events for a non-empty batch')
  return JSON.stringify({
    accepted: committed.length,
    first_sequence: first.sequence,
    last_sequence: last.sequence,
    events: committed.map((event, index) => ({ index, sequence: event.sequence, trace_id: event.traceId })),
  })
}

/**
 * Signs and commits a validated batch. With an Idempotency-Key the key is committed with the
 * events; if a request with the key committed first (a concurrent retry), nothing is stored and
 * that request's response is replayed, or a 409 answered when its body differed.
 */
export async function ingest(
  services: Services,
  orgId: string,
  items: readonly ValidIngestItem[],
  idempotent: IdempotentRequest | null,
): Promise<IngestResponse> {
  const { writer, store } = services
  if (idempotent === null) {
    const committed = await writer.appendPresigned(orgId, (rt) => presignedDrafts(services, orgId, items, rt))
    return { status: CREATED, body: acknowledgementOf(committed), replayed: false }
  }
  // A keyed batch commits at the current time, signed in its transaction: its key's 24 h window
  // counts from the real commit, and a retry may find the key taken, so nothing is signed ahead.
  const nowMs = services.clock.now()
  const claim: IdempotencyClaim = {
    ...idempotent,
    expiredAtOrBeforeMs: nowMs - IDEMPOTENCY_KEY_TTL_MS,
    responseStatus: CREATED,
    renderResponse: acknowledgementOf,
  }
  const key = await services.signers.activeKey(orgId)
  const outcome = await store.appendEventsOnce(orgId, nowMs, signedAtCommit(orgId, items, key.signer), claim)
  if (outcome.outcome === 'exists') return replayOf(outcome.response, idempotent)
  writer.announce(orgId, outcome.events)
  return { status: outcome.response.status, body: outcome.response.body, replayed: false }
}
