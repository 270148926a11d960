// Owns `serve org create`: a new org with its signing key and admin token, straight in the store.
// The token goes to a 0600 file; stdout gets only the org id.

import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { withOperatorSession } from './operator-session.js'
import { STORE_FLAGS } from './store-flags.js'

export const definition = defineCommand({
  name: 'serve org create',
  summary: 'Create an org with its key and an admin token (operator, on the server machine)',
  args: [],
  flags: {
    name: { kind: 'string', placeholder: 'name', help: 'Org name, unique in the store', required: true },
    adminTokenFile: {
      kind: 'string',
      placeholder: 'file',
      help: 'Where to write the admin token (default <data-dir>/org-<org_id>-admin-token)',
    },
    ...STORE_FLAGS,
  },
  examples: ['konnect-audit serve org create --name payments --admin-token-file payments-admin.token'],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const { name } = options
  const created = await withOperatorSession(options, f, (session, operator) =>
    operator.createOrgWithAdmin(session, name, options.adminTokenFile),
  )
  if (f.globals.json)
    await f.io.out(`${JSON.stringify({ org_id: created.org.id, name, admin_token_file: created.tokenFile })}\n`)
  else {
    await f.io.out(`${created.org.id}\n`)
    if (!f.globals.quiet) f.io.err(`Admin token for org ${name} written to ${created.tokenFile}`)
  }
}
