// Owns `profile remove`: deletes a saved profile after confirmation (--yes without a terminal).

import { canPrompt } from '../../../io/secret-input.js'
import type { OptionsOf } from '../../define-command.js'
import { defineCommand } from '../../define-command.js'
import { CliError, UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'

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
  if (options.yes !== true) {
    if (!canPrompt(f.io, f.globals.input))
      throw new UsageError('removing a profile needs --yes when no terminal can confirm')
    const { confirm } = await import('@inquirer/prompts')
    const sure = await confirm(
      { message: `Remove profile ${name}?`, default: false },
      { input: f.io.stdin as NodeJS.ReadableStream, output: f.io.errStream as NodeJS.WritableStream },
    )
    if (!sure) throw new CliError('not removed')
  }
  profiles.remove(name)
  if (!f.globals.quiet) f.io.err(`Removed profile ${name}`)
}
