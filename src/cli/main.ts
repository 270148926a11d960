// Owns argv -> exit code: builds the commander tree (only the invoked command is loaded), runs it
// with a Factory, and maps every error to SPEC.md §9.4's exit codes through exitCodeFor.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import type { ProcessPorts } from '../io/streams.js'
import { VERSION } from '../util/version.js'
import type { CommandDefinition, FlagSpec } from './define-command.js'
import { argSyntax, flagSyntax } from './define-command.js'
import { CliError, EXIT, errorText, exitCodeFor, UsageError } from './errors.js'
import type { GlobalFlags } from './factory.js'
import { createFactory } from './factory.js'
import { BIN, GLOBAL_FLAGS, PROGRAM_SUMMARY, ROOT_EXAMPLES } from './global-flags.js'
import type { CommandModule, RegistryEntry } from './registry.js'
import { GROUP_SUMMARIES, registry } from './registry.js'

/** Global flags that take a value, so the word after them is not a command name. */
const GLOBAL_VALUE_FLAGS = new Set(['--profile', '--server'])

/** The registry entry named by the leading words of argv (longest match), if any. */
export function findEntry(argv: readonly string[]): RegistryEntry | undefined {
  const words: string[] = []
  for (let i = 0; i < argv.length && words.length < 3; i++) {
    const token = argv[i] as string
    if (token === '--') break
    if (token.startsWith('-')) {
      if (words.length > 0) break
      if (GLOBAL_VALUE_FLAGS.has(token)) i++
      continue
    }
    words.push(token)
  }
  const matches = registry.filter((entry) => entry.name.split(' ').every((word, i) => words[i] === word))
  return matches.sort((a, b) => b.name.length - a.name.length)[0]
}

function parseInteger(min: number, max?: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || (max !== undefined && Number(value) > max)) {
      const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`
      throw new InvalidArgumentError(`expected a whole number ${range}`)
    }
    return Number(value)
  }
}

function optionFor(key: string, flag: FlagSpec): Option {
  const option = new Option(flagSyntax(key, flag), flag.help)
  if (flag.kind === 'integer') return option.argParser(parseInteger(flag.min, flag.max))
  if (flag.kind === 'string' && flag.required) return option.makeOptionMandatory(true)
  if (flag.kind !== 'enum') return option
  option.choices(flag.choices)
  return flag.defaultValue === undefined ? option : option.default(flag.defaultValue)
}

function examplesText(examples: readonly string[]): string {
  return examples.length === 0 ? '' : `\nExamples:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n`
}

function childNamed(parent: Command, word: string): Command {
  return parent.commands.find((command) => command.name() === word) ?? parent.command(word).helpCommand(false)
}

/**
 * Commands for help only: every registry entry but the loaded one, nested by their words, so
 * `--help` at any level lists what exists without loading a command module.
 */
function addPlaceholders(program: Command, loaded: RegistryEntry | undefined): void {
  for (const entry of registry) {
    if (entry === loaded) continue
    let command = program
    for (const word of entry.name.split(' ')) command = childNamed(command, word)
    command.description(entry.summary)
  }
  const describeGroups = (parent: Command, path: string) => {
    for (const command of parent.commands) {
      const name = path ? `${path} ${command.name()}` : command.name()
      if (!command.description())
        command.description(GROUP_SUMMARIES[name] ?? command.commands.map((c) => c.name()).join(', '))
      describeGroups(command, name)
    }
  }
  describeGroups(program, '')
}

function addCommand(program: Command, definition: CommandDefinition, onRun: (leaf: Command) => Promise<void>): void {
  const words = definition.name.split(' ')
  let parent = program
  for (const word of words.slice(0, -1)) parent = childNamed(parent, word)
  const leaf = childNamed(parent, words.at(-1) as string).description(definition.summary)
  for (const arg of definition.args) leaf.argument(argSyntax(arg), arg.help)
  for (const [key, flag] of Object.entries(definition.flags)) leaf.addOption(optionFor(key, flag))
  leaf.addHelpText('after', examplesText(definition.examples))
  leaf.action(async (...actionArgs: unknown[]) => onRun(actionArgs.at(-1) as Command))
}

function buildProgram(ports: ProcessPorts): Command {
  const program = new Command(BIN)
    .description(PROGRAM_SUMMARY)
    .version(VERSION, '--version', 'Print the version')
    .helpOption('-h, --help', 'Show help')
    .helpCommand(false)
  for (const [key, flag] of Object.entries(GLOBAL_FLAGS)) program.addOption(optionFor(key, flag))
  program
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => ports.stdout.write(text),
      writeErr: (text) => ports.stderr.write(text),
      outputError: () => {},
    })
    .addHelpText('after', `${examplesText(ROOT_EXAMPLES)}\nRun '${BIN} <command> --help' for a command's flags.\n`)
  return program
}

function globalsOf(program: Command, env: ProcessPorts['env']): GlobalFlags {
  const opts = program.opts<{
    profile?: string
    server?: string
    json?: boolean
    input: boolean
    color: boolean
    quiet?: boolean
    debug?: boolean
  }>()
  return {
    ...(opts.profile === undefined ? {} : { profile: opts.profile }),
    ...(opts.server === undefined ? {} : { server: opts.server }),
    json: opts.json === true,
    input: opts.input,
    color: opts.color && !env.NO_COLOR,
    quiet: opts.quiet === true,
    debug: opts.debug === true,
  }
}

/** One line for a commander parse error: what was wrong and where help is. */
/** A bad flag or argument, as a UsageError naming the help to read. */
function usageErrorOf(error: CommanderError, argv: readonly string[]): UsageError {
  const detail = error.message
    .replace(/^error: /, '')
    .replace(/\n+/g, ' ')
    .trim()
  const entry = findEntry(argv)
  return new UsageError(`${detail} (see '${BIN}${entry ? ` ${entry.name}` : ''} --help')`)
}

/** Runs the CLI on `argv` (without node and script) and returns the process exit code. */
export async function main(argv: readonly string[], ports: ProcessPorts): Promise<number> {
  const program = buildProgram(ports)
  const entry = findEntry(argv)
  addPlaceholders(program, entry)
  let debug = false
  let jsonOutput = false
  let quiet = false
  try {
    if (entry) {
      const module: CommandModule = await entry.load()
      addCommand(program, module.definition, async (leaf) => {
        const globals = globalsOf(program, ports.env)
        debug = globals.debug
        jsonOutput = globals.json
        quiet = globals.quiet
        await module.run({ ...leaf.opts(), args: leaf.args }, createFactory(ports, globals))
      })
    }
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok
      // --json may not have been parsed yet: a script that asked for JSON still gets it.
      const json = jsonOutput || argv.includes('--json')
      if (error.code !== 'commander.help') ports.stderr.write(errorText(usageErrorOf(error, argv), json))
      return EXIT.usage
    }
    ports.stderr.write(errorText(error, jsonOutput, quiet))
    if (debug && error instanceof Error && !(error instanceof CliError)) ports.stderr.write(`${error.stack}\n`)
    return exitCodeFor(error)
  }
}
