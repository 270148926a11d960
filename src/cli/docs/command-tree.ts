// Owns the whole command tree for generated docs: every registry entry's definition, loaded
// together (only docs need them all; a normal run loads one).

import type { CommandDefinition, FlagSpec } from '../define-command.js'
import { flagName } from '../define-command.js'
import { GLOBAL_FLAGS } from '../global-flags.js'
import { registry } from '../registry.js'

export async function loadCommandTree(): Promise<CommandDefinition[]> {
  const modules = await Promise.all(registry.map((entry) => entry.load()))
  return modules.map((module) => module.definition)
}

/** Each flag's long name, short name and spec, global flags first. */
export interface FlagDoc {
  readonly long: string
  readonly short: string | null
  readonly spec: FlagSpec
}

export function flagDocs(flags: Readonly<Record<string, FlagSpec>>): FlagDoc[] {
  return Object.entries(flags).map(([key, spec]) => ({
    long: flagName(key),
    short: 'short' in spec && spec.short ? `-${spec.short}` : null,
    spec,
  }))
}

export const globalFlagDocs = (): FlagDoc[] => [
  ...flagDocs(GLOBAL_FLAGS),
  { long: '--version', short: null, spec: { kind: 'boolean', help: 'Print the version' } },
  { long: '--help', short: '-h', spec: { kind: 'boolean', help: 'Show help' } },
]

/** The words that may follow `prefix` (space-separated command words, '' for the root). */
export function nextWords(tree: readonly CommandDefinition[], prefix: string): string[] {
  const depth = prefix === '' ? 0 : prefix.split(' ').length
  const words = tree
    .filter((command) => prefix === '' || command.name.startsWith(`${prefix} `))
    .map((command) => command.name.split(' ')[depth])
    .filter((word): word is string => word !== undefined)
  return [...new Set(words)]
}
