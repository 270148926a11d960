// Owns `serve token create`: a break-glass token for any org, written to a 0600 file straight
// from the store (operator, on the server machine); stdout gets only the token id.

import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { withOperatorSession } from './operator-session.js'
import { STORE_FLAGS } from './store-flags.js'

export const definition = defineCommand({
  name: 'serve token create',
  summary: 'Create a token for an org, written to a file (operator break-glass)',
  args: [],
  flags: {
    org: { kind: 'string', placeholder: 'id|name', help: 'Org id or name (see serve org list)', required: true },
    role: { kind: 'enum', choices: ['admin', 'auditor', 'ingest'], help: 'Role of the token' },
    name: { kind: 'string', placeholder: 'name', help: 'Token name', required: true },
    out: { kind: 'string', placeholder: 'file', help: 'File to write the token to (mode 0600)', required: true },
    ...STORE_FLAGS,
  },
  examples: ['konnect-audit serve token create --org payments --role admin --name break-glass --out admin.token'],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const role = options.role ?? 'admin'
  const created = await withOperatorSession(options, f, (session, operator) =>
    operator.createOperatorToken(session, { org: options.org, role, name: options.name, tokenFile: options.out }),
  )
  if (f.globals.json)
    await f.io.out(`${JSON.stringify({ id: created.id, org_id: created.org.id, role, token_file: options.out })}\n`)
  else {
    await f.io.out(`${created.id}\n`)
    if (!f.globals.quiet)
      f.io.err(`Token ${options.name} (${role}) for org ${created.org.name} written to ${options.out}`)
  }
}
