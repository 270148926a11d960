// Owns `tokens revoke`: revokes a token at once and for good, after confirmation (SPEC.md §5.3).
// Revoking the org's last active admin token is a 409 (exit 5); an unknown id a 404 (exit 1).

import { writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import type { Factory } from '../../factory.js'
import { confirmAction } from '../confirm-action.js'

export const definition = defineCommand({
  name: 'tokens revoke',
  summary: 'Revoke an API token immediately and permanently',
  args: [{ name: 'id', help: 'Token id (see konnect-audit tokens list)' }],
  flags: { yes: { kind: 'boolean', help: 'Do not ask for confirmation' } },
  examples: ['konnect-audit tokens revoke 3f2c9a4e-1b7d-4e5f-8a6b-0c9d8e7f6a5b --yes'],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const id = options.args[0] as string
  const api = await f.api()
  await confirmAction(f, {
    yes: options.yes,
    question: `Revoke token ${id}? It stops working at once and for good.`,
    action: 'revoking a token',
    declined: 'not revoked',
  })
  await api.send('DELETE', `/v1/tokens/${encodeURIComponent(id)}`)
  // The API answers 204 without a body; --json still prints one document saying what happened.
  if (f.globals.json) await writeJson(f.io, { id, revoked: true })
  else if (!f.globals.quiet) f.io.err(`Revoked token ${id}`)
}
