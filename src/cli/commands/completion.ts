// Owns `completion`: prints the shell completion script generated from the command tree.

import type { OptionsOf } from '../define-command.js'
import { defineCommand } from '../define-command.js'
import { loadCommandTree } from '../docs/command-tree.js'
import type { Shell } from '../docs/completion.js'
import { completionScript, SHELLS } from '../docs/completion.js'
import { UsageError } from '../errors.js'
import type { Factory } from '../factory.js'

export const definition = defineCommand({
  name: 'completion',
  summary: 'Print the shell completion script (bash, zsh or fish)',
  args: [
    { name: 'shell', help: 'bash, zsh or fish (default without a terminal: bash)', optional: true, choices: SHELLS },
  ],
  flags: {},
  examples: [
    'konnect-audit completion bash > /etc/bash_completion.d/konnect-audit',
    'konnect-audit completion fish > ~/.config/fish/completions/konnect-audit.fish',
  ],
})

export async function run(options: OptionsOf<typeof definition>, f: Factory): Promise<void> {
  const requested = options.args[0] ?? (f.io.stdoutIsTTY ? undefined : 'bash')
  if (requested === undefined) throw new UsageError(`name a shell: konnect-audit completion ${SHELLS.join('|')}`)
  if (!(SHELLS as readonly string[]).includes(requested)) {
    throw new UsageError(`unknown shell '${requested}': use ${SHELLS.join(', ')}`)
  }
  await f.io.out(completionScript(requested as Shell, await loadCommandTree()))
}
