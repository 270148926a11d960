// Owns `profile use`: makes a saved profile the current one.

import { writeJson } from '../../../io/output.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'

export const definition = defineCommand({
  name: 'profile use',
  summary: 'Make a profile the current one',
  args: [{ name: 'name', help: 'Profile name' }],
  flags: {},
  examples: ['konnect-audit profile use staging'],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const name = options.args[0] as string
  const profiles = await f.profiles()
  if (profiles.get(name) === undefined) throw new UsageError(`no profile named ${name}; see konnect-audit profile list`)
  profiles.use(name)
  if (f.globals.json) await writeJson(f.io, { current_profile: name })
  else if (!f.globals.quiet) f.io.err(`Now using profile ${name}`)
}
