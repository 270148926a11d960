// Owns `destinations delete`: one DELETE after confirmation (--yes without a terminal, SPEC.md
// §9.3). A destination the webhook uses cannot be deleted: the server's 409 exits 5.

import { writeJson } from '../../../io/output.js'
import { canPrompt } from '../../../io/secret-input.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { confirmAction } from '../confirm-action.js'
import { destinationPath } from './get.js'
import { resolveDestination } from './list.js'

export const definition = defineCommand({
  name: 'destinations delete',
  summary: 'Delete a destination the webhook does not use',
  args: [{ name: 'destination', help: 'Destination ID or name' }],
  flags: { yes: { kind: 'boolean', help: 'Do not ask for confirmation' } },
  examples: ['konnect-audit destinations delete splunk-old --yes'],
})

const ACTION = 'deleting a destination'

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const reference = options.args[0] as string
  // Checked before any request too, so a CI run without --yes fails the same way whatever the server says.
  if (options.yes !== true && !canPrompt(f.io, f.globals.input)) {
    throw new UsageError(`${ACTION} needs --yes when no terminal can confirm`)
  }
  const api = await f.api()
  const { id, name } = await resolveDestination(api, reference)
  const label = name === null ? id : `${name} (${id})`
  await confirmAction(f, {
    yes: options.yes,
    question: `Delete destination ${label}?`,
    action: ACTION,
    declined: 'not deleted',
  })
  await api.send('DELETE', destinationPath(id))
  // The API answers 204 without a body; --json still prints one document saying what happened.
  if (f.globals.json) await writeJson(f.io, { id, name, deleted: true })
  else if (!f.globals.quiet) f.io.err(`Deleted destination ${label}`)
}
