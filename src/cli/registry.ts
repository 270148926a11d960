// Owns the list of commands with a lazy loader each: root --help and --version load no command
// module, and any other call loads exactly one.

import type { CommandDefinition } from './define-command.js'
import type { Factory } from './factory.js'

/** Parsed flags by key, plus positional arguments; each module narrows it with OptionsOf. */
export type ParsedOptions = { readonly args: readonly string[] } & Readonly<Record<string, unknown>>

export interface CommandModule {
  readonly definition: CommandDefinition
  // Method syntax on purpose: a module's run takes its own, narrower OptionsOf type.
  run(options: ParsedOptions, factory: Factory): Promise<void>
}

export interface RegistryEntry {
  readonly name: string
  readonly summary: string
  load(): Promise<CommandModule>
}

export const registry: readonly RegistryEntry[] = [
  {
    name: 'verify',
    summary: 'Verify the signatures of downloaded audit logs, offline',
    load: () => import('./commands/verify.js'),
  },
  {
    name: 'completion',
    summary: 'Print the shell completion script (bash, zsh or fish)',
    load: () => import('./commands/completion.js'),
  },
]
