// Owns `serve org list`: every org in the store, read directly (operator, on the server machine).

import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { withOperatorSession } from './operator-session.js'
import { STORE_FLAGS } from './store-flags.js'

export const definition = defineCommand({
  name: 'serve org list',
  summary: 'List the orgs in the store (operator, on the server machine)',
  args: [],
  flags: { ...STORE_FLAGS },
  examples: ['konnect-audit serve org list --json'],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const orgs = await withOperatorSession(options, f, (session) => session.store.listOrgs())
  const rows = orgs.map((org) => ({ id: org.id, name: org.name, created_at: new Date(org.createdAt).toISOString() }))
  if (f.globals.json) await f.io.out(`${JSON.stringify({ data: rows })}\n`)
  else await f.io.out(rows.map((row) => `${row.id}\t${row.name}\t${row.created_at}\n`).join(''))
}
