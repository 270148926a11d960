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

/** What each group of commands is for, shown by `--help` (the commands themselves load lazily). */
export const GROUP_SUMMARIES: Readonly<Record<string, string>> = {
  webhook: 'Configure, test and watch the SIEM webhook; run a local verifying receiver',
  destinations: 'Manage reusable webhook destinations',
  replay: 'Re-send stored events of a time window to the webhook',
  logs: 'Download raw signed audit logs',
  keys: 'List, rotate and export the signing keys',
  tokens: 'Create, list and revoke API tokens',
  profile: 'Manage saved profiles (server and token)',
  'serve org': 'Create and list orgs (operator, on the server machine)',
  'serve token': 'Create a break-glass token (operator, on the server machine)',
}

export const registry: readonly RegistryEntry[] = [
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
    name: 'webhook get',
    summary: 'Show the webhook configuration (never its Authorization value)',
    load: () => import('./commands/webhook/get.js'),
  },
  {
    name: 'webhook set',
    summary: 'Configure the webhook: endpoint, format, Authorization, TLS check, or a destination',
    load: () => import('./commands/webhook/set.js'),
  },
  {
    name: 'webhook enable',
    summary: 'Start (or resume) delivery to the webhook',
    load: () => import('./commands/webhook/enable.js'),
  },
  {
    name: 'webhook disable',
    summary: 'Pause delivery to the webhook (nothing is lost; enable resumes)',
    load: () => import('./commands/webhook/disable.js'),
  },
  {
    name: 'webhook status',
    summary: 'Show delivery status, last attempt and lag',
    load: () => import('./commands/webhook/status.js'),
  },
  {
    name: 'webhook test',
    summary: 'Send one signed test event to the webhook (or a candidate endpoint) and report the outcome',
    load: () => import('./commands/webhook/test.js'),
  },
  {
    name: 'webhook listen',
    summary: 'Run a local receiver that verifies every delivered line',
    load: () => import('./commands/webhook/listen.js'),
  },
  {
    name: 'destinations list',
    summary: 'List the destinations (all pages)',
    load: () => import('./commands/destinations/list.js'),
  },
  {
    name: 'destinations create',
    summary: 'Create a named destination (Authorization value from stdin)',
    load: () => import('./commands/destinations/create.js'),
  },
  {
    name: 'destinations get',
    summary: 'Show one destination (by ID or name)',
    load: () => import('./commands/destinations/get.js'),
  },
  {
    name: 'destinations update',
    summary: 'Change a destination (only the fields given)',
    load: () => import('./commands/destinations/update.js'),
  },
  {
    name: 'destinations delete',
    summary: 'Delete a destination the webhook does not use',
    load: () => import('./commands/destinations/delete.js'),
  },
  {
    name: 'replay start',
    summary: 'Re-send stored events from a time window to the webhook',
    load: () => import('./commands/replay/start.js'),
  },
  {
    name: 'replay status',
    summary: 'Show the replay job: state, window and progress',
    load: () => import('./commands/replay/status.js'),
  },
  {
    name: 'tail',
    summary: 'Stream audit events live as they are recorded, optionally verifying each line',
    load: () => import('./commands/tail.js'),
  },
  {
    name: 'logs pull',
    summary: 'Download raw signed audit logs of a time window as NDJSON (resumable)',
    load: () => import('./commands/logs/pull.js'),
  },
  {
    name: 'keys list',
    summary: "List the org's signing keys",
    load: () => import('./commands/keys/list.js'),
  },
  {
    name: 'keys rotate',
    summary: 'Make a new signing key active and retire the current one',
    load: () => import('./commands/keys/rotate.js'),
  },
  {
    name: 'keys export',
    summary: "Write the org's JWKS (public keys) for offline verification",
    load: () => import('./commands/keys/export.js'),
  },
  {
    name: 'tokens create',
    summary: 'Create an API token and print its secret once',
    load: () => import('./commands/tokens/create.js'),
  },
  {
    name: 'tokens list',
    summary: "List the org's API tokens (never their secrets)",
    load: () => import('./commands/tokens/list.js'),
  },
  {
    name: 'tokens revoke',
    summary: 'Revoke an API token immediately and permanently',
    load: () => import('./commands/tokens/revoke.js'),
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
