// Owns the typed shape of a command: its name, help, positional arguments and flags. Commands
// declare a definition; main.ts turns it into commander options, docs read it for help text.

export type FlagSpec =
  | { readonly kind: 'boolean'; readonly help: string; readonly short?: string }
  | {
      readonly kind: 'string'
      readonly help: string
      readonly short?: string
      readonly placeholder: string
      readonly required?: boolean
    }
  | {
      readonly kind: 'integer'
      readonly help: string
      readonly min: number
      readonly max?: number
      readonly placeholder: string
    }
  | {
      readonly kind: 'enum'
      readonly help: string
      readonly choices: readonly string[]
      readonly defaultValue?: string
    }

export interface ArgSpec {
  readonly name: string
  readonly help: string
  /** Any number of values, none included. */
  readonly variadic?: boolean
  readonly optional?: boolean
  /** The accepted values, when there is a fixed set (completions offer them). */
  readonly choices?: readonly string[]
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

type RequiredKeys<F> = { [K in keyof F]: F[K] extends { required: true } ? K : never }[keyof F]

/** What `run` receives: each flag's parsed value (absent when not given) and the positional args. */
export type OptionsOf<D extends CommandDefinition> = {
  readonly [K in Exclude<keyof D['flags'], RequiredKeys<D['flags']>>]?: FlagValue<D['flags'][K]>
} & {
  readonly [K in RequiredKeys<D['flags']>]: FlagValue<D['flags'][K]>
} & { readonly args: readonly string[] }

export function defineCommand<const D extends CommandDefinition>(definition: D): D {
  return definition
}

/** `jwksUrl` → `--jwks-url`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

/** The placeholder of a flag's value (`<file|url>`), or null for a boolean flag. */
export function flagValue(flag: FlagSpec): string | null {
  switch (flag.kind) {
    case 'boolean':
      return null
    case 'enum':
      return `<${flag.choices.join('|')}>`
    default:
      return `<${flag.placeholder}>`
  }
}

/** How a flag is written in help: `-q, --quiet`, `--jwks <file|url>`. */
export function flagSyntax(key: string, flag: FlagSpec): string {
  const short = 'short' in flag && flag.short ? `-${flag.short}, ` : ''
  const value = flagValue(flag)
  return `${short}${flagName(key)}${value ? ` ${value}` : ''}`
}

/** How an argument is written in a synopsis: `<id>`, `[shell]`, `[file...]`. */
export function argSyntax(arg: ArgSpec): string {
  if (arg.variadic) return `[${arg.name}...]`
  return arg.optional ? `[${arg.name}]` : `<${arg.name}>`
}
