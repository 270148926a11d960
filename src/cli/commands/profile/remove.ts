// Owns `profile remove`: deletes a saved profile after confirmation (--yes without a terminal).

import { writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'
import { confirmAction } from '../confirm-action.js'

export const definition = defineCommand({
  name: 'profile remove',
  summary: 'Delete a saved profile',
  args: [{ name: 'name', help: 'Profile name' }],
  flags: { yes: { kind: 'boolean', help: 'Do not ask for confirmation' } },
  examples: ['konnect-audit profile remove staging --yes'],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const name = options.args[0] as string
  const profiles = await f.profiles()
  if (profiles.get(name) === undefined) throw new UsageError(`no profile named ${name}; see konnect-audit profile list`)
  await confirmAction(f, {
    yes: options.yes,
    question: `Remove profile ${name}?`,
    action: 'removing a profile',
    declined: 'not removed',
  })
  profiles.remove(name)
  if (f.globals.json) await writeJson(f.io, { profile: name, removed: true })
  else if (!f.globals.quiet) f.io.err(`Removed profile ${name}`)
}
