// Owns `destinations get` and how one destination is printed (SPEC.md §5.7). The authorization is
// write-only, so it never appears.

import { relativeTime, writeFields, writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import type { Destination } from './list.js'
import { DESTINATIONS_PATH, resolveDestination } from './list.js'

export const definition = defineCommand({
  name: 'destinations get',
  summary: 'Show one destination (by ID or name)',
  args: [{ name: 'destination', help: 'Destination ID or name' }],
  flags: {},
  examples: ['konnect-audit destinations get splunk-prod', 'konnect-audit destinations get splunk-prod --json'],
})

export function destinationPath(id: string): string {
  return `${DESTINATIONS_PATH}/${encodeURIComponent(id)}`
}

/** The body unchanged with --json; else one field per line. */
export async function writeDestination(f: Factory, destination: Destination): Promise<void> {
  if (f.globals.json) return writeJson(f.io, destination)
  const time = (iso: string) => (f.io.stdoutIsTTY ? relativeTime(iso, Date.now()) : iso)
  await writeFields(f.io, [
    ['ID', destination.id],
    ['Name', destination.name],
    ['Endpoint', destination.endpoint],
    ['Format', destination.log_format],
    ['Skip TLS verify', destination.skip_ssl_verification ? 'yes' : 'no'],
    ['Created', time(destination.created_at)],
    ['Updated', time(destination.updated_at)],
  ])
}

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const api = await f.api()
  const { id } = await resolveDestination(api, options.args[0] as string)
  await writeDestination(f, (await api.send('GET', destinationPath(id))).json<Destination>())
}
