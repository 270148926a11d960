// Owns destinations (SPEC.md §5.7): creation within the per-org limit, partial updates that
// re-check every given endpoint setting, deletion refused while the webhook uses one, and keyset
// pages with name filters and relative links. `authorization` is write-only: no view carries it.

import { randomUUID } from 'node:crypto'
import type { Static } from 'typebox'
import { serverTime } from '../../contract/common.js'
import type { CreateDestinationBody, ListDestinationsQuery, PatchDestinationBody } from '../../contract/destinations.js'
import type {
  DestinationChange,
  DestinationPosition,
  DestinationQuery,
  DestinationRecord,
  Store,
} from '../../store/store.js'
import { StoreError } from '../../store/store.js'
import type { InvalidParameter } from '../problem.js'
import { badRequest, ProblemError } from '../problem.js'
import { badCursor, keysetPage, pageDirectionOf } from './paging.js'
import type { PatchContext } from './webhook.js'
import { endpointSettingsProblems, UUID_PATTERN } from './webhook.js'

type CreateDestinationInput = Static<typeof CreateDestinationBody>
type DestinationPatch = Static<typeof PatchDestinationBody>
type DestinationListQuery = Static<typeof ListDestinationsQuery>

export const MAX_DESTINATIONS_PER_ORG = 100
const MAX_NAME_BYTES = 255
const DEFAULT_PAGE_SIZE = 100
const LIST_PATH = '/v3/audit-log-destinations'
const NAME_FILTERS = ['filter[name]', 'filter[name][eq]', 'filter[name][contains]'] as const

function destinationView(destination: DestinationRecord) {
  return {
    id: destination.id,
    name: destination.name,
    endpoint: destination.endpoint,
    log_format: destination.logFormat,
    skip_ssl_verification: destination.skipSslVerification,
    created_at: serverTime(destination.createdAt),
    updated_at: serverTime(destination.updatedAt),
  }
}

function notFound(id: string): ProblemError {
  return new ProblemError(404, `Destination ${id} not found`)
}

/** A duplicate name is the only conflict a destination write can meet. */
function asDuplicateName(error: unknown): unknown {
  if (error instanceof StoreError && error.kind === 'conflict') {
    return new ProblemError(409, 'A destination with this name already exists')
  }
  return error
}

function nameProblems(name: string | undefined): InvalidParameter[] {
  if (name === undefined || Buffer.byteLength(name) <= MAX_NAME_BYTES) return []
  return [
    {
      field: 'name',
      rule: 'max_length',
      maximum: MAX_NAME_BYTES,
      reason: `must be at most ${MAX_NAME_BYTES} bytes`,
      source: 'body',
    },
  ]
}

async function refuseInvalidFields(
  fields: { readonly name?: string; readonly endpoint?: string; readonly authorization?: string },
  allowInsecure: boolean,
): Promise<void> {
  const problems = [...nameProblems(fields.name), ...(await endpointSettingsProblems(fields, allowInsecure))]
  if (problems.length > 0) throw badRequest(problems)
}

export async function createDestination(
  store: Store,
  orgId: string,
  input: CreateDestinationInput,
  context: PatchContext,
) {
  await refuseInvalidFields(input, context.allowInsecureEndpoints)
  const destination: DestinationRecord = {
    id: randomUUID(),
    orgId,
    name: input.name,
    endpoint: input.endpoint,
    authorization: input.authorization,
    logFormat: input.log_format,
    skipSslVerification: input.skip_ssl_verification ?? false,
    createdAt: context.nowMs,
    updatedAt: context.nowMs,
  }
  const outcome = await store.insertDestination(destination, MAX_DESTINATIONS_PER_ORG).catch((error: unknown) => {
    throw asDuplicateName(error)
  })
  if (outcome === 'limit_reached') {
    throw new ProblemError(409, `An org can have at most ${MAX_DESTINATIONS_PER_ORG} destinations; delete one first`)
  }
  return destinationView(destination)
}

export async function getDestination(store: Store, orgId: string, id: string) {
  const destination = await store.findDestination(orgId, id.toLowerCase())
  if (destination === null) throw notFound(id)
  return destinationView(destination)
}

function changeOf(patch: DestinationPatch): DestinationChange {
  return {
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.endpoint === undefined ? {} : { endpoint: patch.endpoint }),
    ...(patch.authorization === undefined ? {} : { authorization: patch.authorization }),
    ...(patch.log_format === undefined ? {} : { logFormat: patch.log_format }),
    ...(patch.skip_ssl_verification === undefined ? {} : { skipSslVerification: patch.skip_ssl_verification }),
  }
}

export async function patchDestination(
  store: Store,
  orgId: string,
  id: string,
  patch: DestinationPatch,
  context: PatchContext,
) {
  await refuseInvalidFields(patch, context.allowInsecureEndpoints)
  const updated = await store
    .updateDestination(orgId, id.toLowerCase(), changeOf(patch), context.nowMs)
    .catch((error: unknown) => {
      throw asDuplicateName(error)
    })
  if (updated === null) throw notFound(id)
  return destinationView(updated)
}

export async function deleteDestination(store: Store, orgId: string, id: string): Promise<void> {
  const outcome = await store.deleteDestination(orgId, id.toLowerCase())
  if (outcome === 'not_found') throw notFound(id)
  if (outcome === 'in_use') throw new ProblemError(409, 'destination is in use')
}

/** A keyset cursor: the position (created_at, id) a page continues from, base64url JSON. */
function encodePosition(position: DestinationPosition): string {
  return Buffer.from(JSON.stringify({ created_at: position.createdAt, id: position.id })).toString('base64url')
}

function decodePosition(cursor: string, field: string): DestinationPosition {
  let decoded: { created_at?: unknown; id?: unknown }
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof decoded
  } catch {
    throw badCursor(field)
  }
  const { created_at: createdAt, id } = decoded ?? {}
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt)) throw badCursor(field)
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) throw badCursor(field)
  return { createdAt, id }
}

type NameFilter = Pick<DestinationQuery, 'nameEquals' | 'nameContains'>

/** At most one name filter (SPEC.md §5.7); `filter[name]` and `filter[name][eq]` both match exactly. */
function nameFilterOf(query: DestinationListQuery): { filter: NameFilter; params: Array<[string, string]> } {
  const given = NAME_FILTERS.flatMap((key) => {
    const value = query[key]
    return value === undefined ? [] : [[key, value] as [string, string]]
  })
  const [first, second] = given
  if (second !== undefined) {
    throw new ProblemError(400, 'Invalid query parameters', [
      {
        field: second[0],
        rule: 'invalid',
        reason: `cannot be combined with ${first?.[0]}; use one of ${NAME_FILTERS.join(', ')}`,
        source: 'query',
      },
    ])
  }
  if (first === undefined) return { filter: {}, params: [] }
  const [key, value] = first
  return { filter: key === 'filter[name][contains]' ? { nameContains: value } : { nameEquals: value }, params: given }
}

function pageLink(size: number, cursor: [string, string], filterParams: ReadonlyArray<[string, string]>): string {
  const query = new URLSearchParams([['page[size]', String(size)], cursor, ...filterParams])
  return `${LIST_PATH}?${query.toString()}`
}

/** One page in ascending order, with `next`/`previous` links only where more destinations exist. */
export async function listDestinations(store: Store, orgId: string, query: DestinationListQuery) {
  const size = query['page[size]'] ?? DEFAULT_PAGE_SIZE
  const { filter, params } = nameFilterOf(query)
  const { page, next, previous } = await keysetPage({
    size,
    direction: pageDirectionOf(query, decodePosition),
    read: (direction, limit) => store.listDestinations({ orgId, ...filter, ...direction, limit }),
    positionOf: (destination): DestinationPosition => destination,
    link: (cursor, position) => pageLink(size, [cursor, encodePosition(position)], params),
  })
  return { data: page.map(destinationView), meta: { next, previous, size } }
}
