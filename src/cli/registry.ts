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
    name: 'webhook listen',
    summary: 'Run a local receiver that verifies every delivered line',
    load: () => import('./commands/webhook/listen.js'),
  },
  {
    name: 'login',
    summary: 'Save a server and token in a profile (token from stdin or a prompt)',
    load: () => import('./commands/login.js'),
  },
  {
    name: 'logout',
    summary: "Remove the profile's token (it stays valid on the server)",
    load: () => import('./commands/logout.js'),
  },
  {
    name: 'whoami',
    summary: 'Show the profile, server and token in use',
    load: () => import('./commands/whoami.js'),
  },
  {
    name: 'profile list',
    summary: 'List saved profiles',
    load: () => import('./commands/profile/list.js'),
  },
  {
    name: 'profile use',
    summary: 'Make a profile the current one',
    load: () => import('./commands/profile/use.js'),
  },
  {
    name: 'profile remove',
    summary: 'Delete a saved profile',
    load: () => import('./commands/profile/remove.js'),
  },
  {
    name: 'serve',
    summary: 'Run the audit service core (SQLite in the data dir by default)',
    load: () => import('./commands/serve.js'),
  },
  {
    name: 'serve org create',
    summary: 'Create an org with its key and an admin token (operator, on the server machine)',
    load: () => import('./commands/serve/org-create.js'),
  },
  {
    name: 'serve org list',
    summary: 'List the orgs in the store (operator, on the server machine)',
    load: () => import('./commands/serve/org-list.js'),
  },
  {
    name: 'serve token create',
    summary: 'Create a token for an org, written to a file (operator break-glass)',
    load: () => import('./commands/serve/token-create.js'),
  },
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
