// Owns ingest (SPEC.md §5.4): the raw body (NDJSON or a JSON array, gzip allowed, 5 MiB after
// decompression) is parsed and every item validated first; a valid batch is signed and committed
// in one transaction with consecutive sequences, and acknowledged only after that commit.

import { gunzipSync } from 'node:zlib'
import { signJsonLine } from '../../core/canonical-json.js'
import type { ValidIngestItem } from '../../core/ingest-item.js'
import { buildEvent, validateIngestItem } from '../../core/ingest-item.js'
import { findDuplicateKey } from '../../core/json-duplicates.js'
import type { InvalidParameter } from '../../core/problem-fields.js'
import { drawTraceId } from '../../core/trace-id.js'
import type { EventDraft } from '../../store/store.js'
import { formatUtcSeconds, parseRfc3339Ms } from '../../util/rfc3339.js'
import type { TraceId } from '../../util/u64.js'
import { badRequest, ProblemError } from '../problem.js'
import type { Services } from './services.js'

export const MAX_INGEST_BYTES = 5 * 1024 * 1024
export const MAX_ITEMS = 1000

const UNPARSABLE: InvalidParameter[] = [{ field: 'body', reason: 'request format is invalid', source: 'body' }]

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
    throw badRequest(UNPARSABLE, 'Could not decompress the gzip request body')
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
  if (!parsed.ok) throw badRequest(UNPARSABLE, 'Could not parse request body')
  if (!Array.isArray(parsed.value)) {
    throw badRequest([{ field: 'body', rule: 'type', reason: 'must be a JSON array of events', source: 'body' }])
  }
  return parsed.value.map((value: unknown) => ({ ok: true, value }))
}

export function parseItems(body: Buffer, contentType: string): ParsedItem[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body)
  const items = contentType.startsWith('application/x-ndjson') ? ndjsonItems(text) : jsonArrayItems(text)
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

/** Validates every item; any problem anywhere rejects the whole batch. */
export function validateItems(
  items: readonly ParsedItem[],
  orgId: string,
  nowMs: number,
  retentionMs: number,
): ValidIngestItem[] {
  const context = { orgId, nowMs, retentionMs, arrivalTs: formatUtcSeconds(nowMs) }
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

export async function ingest(services: Services, orgId: string, items: readonly ValidIngestItem[]) {
  const signer = await services.signers.signerFor(orgId)
  const traceIds = traceIdsFor(items)
  const drafts: EventDraft[] = items.map((item, index) => {
    const traceId = traceIds[index] as TraceId
    return {
      type: item.type,
      eventTsMs: parseRfc3339Ms(item.draft.event_ts) ?? 0,
      traceId,
      render: (rt) => signJsonLine(buildEvent(item, { orgId, traceId, rt }), signer),
    }
  })
  const committed = await services.store.appendEvents(orgId, services.clock.now(), drafts)
  const first = committed[0]
  const last = committed.at(-1)
  if (!first || !last) throw new Error('the store committed no events for a non-empty batch')
  services.bus.announce(orgId, last.sequence)
  return {
    accepted: committed.length,
    first_sequence: first.sequence,
    last_sequence: last.sequence,
    events: committed.map((event, index) => ({ index, sequence: event.sequence, trace_id: event.traceId })),
  }
}
