// Owns the endpoint settings that `webhook set` and `destinations create|update` read from the
// user: the Authorization value (piped stdin or a masked prompt, never argv), the
// --[no-]skip-tls-verify pair and its warning, and required values asked for on a terminal.
// Nothing here prints a secret.

import { canPrompt, promptOutput, promptSecret, readStdinText } from '../../../io/secret-input.js'
import type { FlagSpec } from '../../define-command.js'
import { UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'

export const LOG_FORMATS = ['cef', 'json', 'cps'] as const

/**
 * Two flags, as the global `--no-input`: commander folds `--no-skip-tls-verify` into
 * `skipTlsVerify: false`, and leaves it undefined when neither is given.
 */
export const SKIP_TLS_FLAGS = {
  skipTlsVerify: { kind: 'boolean', help: "Do not verify the receiver's TLS certificate (insecure; warns)" },
  noSkipTlsVerify: { kind: 'boolean', help: "Verify the receiver's TLS certificate again (the default)" },
} as const satisfies Record<string, FlagSpec>

/** `skip_ssl_verification` as given by the flag pair, or undefined when neither was given. */
export function skipTlsOf(options: {
  readonly skipTlsVerify?: boolean
  readonly noSkipTlsVerify?: boolean
}): boolean | undefined {
  return options.noSkipTlsVerify === true ? false : options.skipTlsVerify
}

/** Always shown, even with -q: turning certificate checks off is a warning that matters. */
export function warnSkipTls(f: Factory, receiver: string): void {
  f.io.err(
    `Warning: the TLS certificate of ${receiver} will not be verified; anyone on the network path can read or change deliveries`,
  )
}

function promptStreams(f: Factory) {
  return { input: f.io.stdin as NodeJS.ReadableStream, output: promptOutput(f.io.errStream) as NodeJS.WritableStream }
}

interface AuthorizationRequest {
  /** The command as typed, for the usage errors' example. */
  readonly command: string
  /** Whether --auth-header-stdin was given; without it only a prompt can supply the value. */
  readonly flagGiven: boolean
  /** Appended to the "is empty" error. */
  readonly emptyHint?: string
}

/**
 * The Authorization header value: piped stdin (trimmed) when --auth-header-stdin was given,
 * else a masked prompt on a terminal, else a usage error naming the flag.
 */
export async function readAuthorization(f: Factory, request: AuthorizationRequest): Promise<string> {
  const example = `printf '%s' "$SIEM_AUTH" | konnect-audit ${request.command} ... --auth-header-stdin`
  let value: string
  if (request.flagGiven && !f.io.stdinIsTTY) value = await readStdinText(f.io)
  else if (canPrompt(f.io, f.globals.input)) value = await promptSecret(f.io, 'Authorization header value')
  else if (request.flagGiven) throw new UsageError(`--auth-header-stdin reads the value from stdin: ${example}`)
  else throw new UsageError(`--auth-header-stdin is required: ${example}`)
  if (value === '') {
    throw new UsageError(`the Authorization value is empty${request.emptyHint ?? ''}`)
  }
  return value
}

/** A required text value: asked for on a terminal, else a usage error (`missing` names the flag). */
export async function askText(f: Factory, message: string, missing: string): Promise<string> {
  if (!canPrompt(f.io, f.globals.input)) throw new UsageError(missing)
  const { input } = await import('@inquirer/prompts')
  const answer = await input(
    { message, validate: (value) => value.trim() !== '' || 'A value is required' },
    promptStreams(f),
  )
  return answer.trim()
}

/** A required log format: chosen on a terminal, else a usage error naming --format. */
export async function askLogFormat(f: Factory): Promise<(typeof LOG_FORMATS)[number]> {
  if (!canPrompt(f.io, f.globals.input)) throw new UsageError('--format is required (cef, json or cps)')
  const { select } = await import('@inquirer/prompts')
  return select(
    { message: 'Log format', choices: LOG_FORMATS.map((value) => ({ value })), default: 'cef' },
    promptStreams(f),
  )
}
