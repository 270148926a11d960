// Owns the typed shape of a command: its name, help, positional arguments and flags. Commands
// declare a definition; main.ts turns it into commander options, docs read it for help text.

export type FlagSpec =
  | { readonly kind: 'boolean'; readonly help: string; readonly short?: string }
  | { readonly kind: 'string'; readonly help: string; readonly short?: string; readonly placeholder: string }
  | { readonly kind: 'integer'; readonly help: string; readonly min: number; readonly placeholder: string }
  | {
      readonly kind: 'enum'
      readonly help: string
      readonly choices: readonly string[]
      readonly defaultValue?: string
    }

export interface ArgSpec {
  readonly name: string
  readonly help: string
  readonly variadic?: boolean
}

export interface CommandDefinition {
  /** Space-separated words, e.g. `verify` or `replay start`. */
  readonly name: string
  readonly summary: string
  readonly args: readonly ArgSpec[]
  readonly flags: Readonly<Record<string, FlagSpec>>
  readonly examples: readonly string[]
}

type FlagValue<F> = F extends { kind: 'boolean' }
  ? boolean
  : F extends { kind: 'integer' }
    ? number
    : F extends { kind: 'enum'; choices: readonly (infer C)[] }
      ? C
      : string

/** What `run` receives: each flag's parsed value (absent when not given) and the positional args. */
export type OptionsOf<D extends CommandDefinition> = {
  readonly [K in keyof D['flags']]?: FlagValue<D['flags'][K]>
} & { readonly args: readonly string[] }

export function defineCommand<const D extends CommandDefinition>(definition: D): D {
  return definition
}

/** `jwksUrl` → `--jwks-url`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}
