// Owns `destinations list` and the destination look-ups other commands share: following every
// page of GET /v3/audit-log-destinations, and turning an ID|NAME argument into an id (a name
// resolves with filter[name][eq], SPEC.md §5.7). Destinations carry no authorization.

import type { ApiClient } from '../../../api/client.js'
import type { Column } from '../../../io/output.js'
import { writeJson, writeRows } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError, UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'destinations list',
  summary: 'List the destinations (all pages)',
  args: [],
  flags: {
    name: { kind: 'string', placeholder: 'name', help: 'Only the destination with exactly this name' },
    nameContains: {
      kind: 'string',
      placeholder: 'text',
      help: 'Only destinations whose name contains this (any case)',
    },
  },
  examples: ['konnect-audit destinations list', 'konnect-audit destinations list --name-contains splunk --json'],
})

export interface Destination {
  readonly id: string
  readonly name: string
  readonly endpoint: string
  readonly log_format: string
  readonly skip_ssl_verification: boolean
  readonly created_at: string
  readonly updated_at: string
}

interface DestinationPage {
  readonly data: readonly Destination[]
  readonly meta?: { readonly next?: string | null }
}

export const DESTINATIONS_PATH = '/v3/audit-log-destinations'
/** Konnect's default page size, and our per-org limit: one page on our own server. */
const PAGE_SIZE = 100
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** `next` is relative (SPEC.md §5.7); the API client puts the server URL (and its prefix) in front. */
function pathOf(link: string): string {
  const url = new URL(link, 'http://relative.invalid')
  return `${url.pathname}${url.search}`
}

/** Every destination matching `filter`, following `meta.next` to the last page. */
async function fetchDestinations(api: ApiClient, filter: Readonly<Record<string, string>>): Promise<Destination[]> {
  const all: Destination[] = []
  const followed = new Set<string>()
  let page = (
    await api.send('GET', DESTINATIONS_PATH, { query: { 'page[size]': PAGE_SIZE, ...filter } })
  ).json<DestinationPage>()
  all.push(...page.data)
  for (let next = page.meta?.next; next; next = page.meta?.next) {
    if (followed.has(next)) throw new CliError(`the server sent the page link ${next} twice; stopping`)
    followed.add(next)
    page = (await api.send('GET', pathOf(next))).json<DestinationPage>()
    all.push(...page.data)
  }
  return all
}

/** A UUID is taken as an id as is; anything else is a name, which must match exactly one destination. */
export async function resolveDestination(
  api: ApiClient,
  reference: string,
): Promise<{ readonly id: string; readonly name: string | null }> {
  if (UUID.test(reference)) return { id: reference, name: null }
  const named = (await fetchDestinations(api, { 'filter[name][eq]': reference })).filter(
    (destination) => destination.name === reference,
  )
  const [first] = named
  if (first === undefined) {
    throw new CliError(`no destination is named "${reference}"; see konnect-audit destinations list`)
  }
  if (named.length > 1) throw new CliError(`${named.length} destinations are named "${reference}"; give the ID instead`)
  return { id: first.id, name: first.name }
}

const COLUMNS: Column<Destination>[] = [
  { header: 'ID', value: (row) => row.id },
  { header: 'NAME', value: (row) => row.name },
  { header: 'FORMAT', value: (row) => row.log_format },
  { header: 'ENDPOINT', value: (row) => row.endpoint },
  { header: 'SKIP TLS VERIFY', value: (row) => (row.skip_ssl_verification ? 'yes' : 'no') },
  { header: 'UPDATED', value: (row) => row.updated_at, time: true },
]

function filterOf(options: OptionsOf<typeof definition>): Record<string, string> {
  if (options.name !== undefined && options.nameContains !== undefined) {
    throw new UsageError('--name and --name-contains cannot be combined')
  }
  if (options.name !== undefined) return { 'filter[name][eq]': options.name }
  if (options.nameContains !== undefined) return { 'filter[name][contains]': options.nameContains }
  return {}
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const filter = filterOf(options)
  const api = await f.api()
  const destinations = await fetchDestinations(api, filter)
  if (f.globals.json) return writeJson(f.io, { data: destinations })
  if (destinations.length > 0) return writeRows(f.io, destinations, COLUMNS)
  if (f.io.stderrIsTTY && !f.globals.quiet) {
    f.io.err(
      Object.keys(filter).length > 0
        ? 'No destinations match'
        : 'No destinations yet: create one with konnect-audit destinations create',
    )
  }
}
