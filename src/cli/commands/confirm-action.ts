// Owns the confirmation step of destructive commands (SPEC.md §9.3): --yes skips it; without a
// terminal that can prompt, or with --no-input, --yes is mandatory (exit 2). Declining exits 1.

import { canPrompt, promptOutput } from '../../io/secret-input.js'
import { CliError, EXIT, UsageError } from '../errors.js'
import type { Factory } from '../factory.js'

export interface Confirmation {
  /** The value of the command's --yes flag. */
  readonly yes: boolean | undefined
  /** The yes/no question, e.g. `Revoke token 1f0…?`. */
  readonly question: string
  /** What needs --yes, for the usage error: `revoking a token`. */
  readonly action: string
  /** The error message when the user answers no: `not revoked`. */
  readonly declined: string
}

/** Ctrl-C at the prompt: nothing was done, and the exit code is SIGINT's (SPEC.md §9.4). */
class PromptInterruptedError extends CliError {
  override readonly name = 'PromptInterruptedError'
  override readonly exitCode = EXIT.interrupted
}

export async function confirmAction(f: Factory, confirmation: Confirmation): Promise<void> {
  if (confirmation.yes === true) return
  const needsYes = `${confirmation.action} needs --yes when no terminal can confirm`
  if (!canPrompt(f.io, f.globals.input) || f.io.stdin.readableEnded) throw new UsageError(needsYes)
  const { confirm } = await import('@inquirer/prompts')
  // A terminal stdin that ends mid-prompt would leave the prompt waiting forever.
  const stdinEnded = new AbortController()
  const abort = () => stdinEnded.abort()
  f.io.stdin.once('end', abort)
  let sure: boolean
  try {
    sure = await confirm(
      { message: confirmation.question, default: false },
      {
        input: f.io.stdin as NodeJS.ReadableStream,
        output: promptOutput(f.io.errStream) as NodeJS.WritableStream,
        signal: stdinEnded.signal,
      },
    )
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortPromptError') throw new UsageError(needsYes)
    if (error instanceof Error && error.name === 'ExitPromptError')
      throw new PromptInterruptedError(confirmation.declined)
    throw error
  } finally {
    f.io.stdin.off('end', abort)
  }
  if (!sure) throw new CliError(confirmation.declined)
}
