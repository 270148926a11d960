// Owns the CLI's error vocabulary, the one mapping from an error to an exit code (SPEC.md §9.4)
// and the one way errors are written (SPEC.md §9.3). Only main.ts calls these.

import { ApiError, NetworkError } from '../api/errors.js'

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  verificationFailed: 3,
  notAuthenticated: 4,
  conflict: 5,
  interrupted: 130,
} as const

/** An error whose message is meant for the user: what happened and what to do next. */
export class CliError extends Error {
  override readonly name: string = 'CliError'
  readonly exitCode: number = EXIT.error
}

export class UsageError extends CliError {
  override readonly name = 'UsageError'
  override readonly exitCode = EXIT.usage
}

export class VerificationFailedError extends CliError {
  override readonly name = 'VerificationFailedError'
  override readonly exitCode = EXIT.verificationFailed
}

export class NotAuthenticatedError extends CliError {
  override readonly name = 'NotAuthenticatedError'
  override readonly exitCode = EXIT.notAuthenticated
}

export class ConflictError extends CliError {
  override readonly name = 'ConflictError'
  override readonly exitCode = EXIT.conflict
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode
  if (error instanceof ApiError) {
    if (error.status === 401) return EXIT.notAuthenticated
    if (error.status === 409) return EXIT.conflict
  }
  return EXIT.error
}

/**
 * The stderr text for an error: `Error: <detail> (HTTP <status> <title>, trace <instance>)`; with
 * `--json` one JSON document, `{"error":<problem body>}`, or `{"error":{"detail":…}}` for an error
 * no HTTP response carried (network, usage, verification), so a script always reads JSON.
 */
export function errorText(error: unknown, json: boolean, quiet = false): string {
  if (json) return `${JSON.stringify({ error: jsonErrorOf(error) })}\n`
  if (error instanceof ApiError) {
    const { problem } = error
    const title = problem?.title ? ` ${problem.title}` : ''
    const trace = problem?.instance ? `, trace ${problem.instance}` : ''
    // -q hides hints, never errors (SPEC.md §9.3).
    const hint = error.status === 401 && !quiet ? '\nRun konnect-audit login to sign in again.' : ''
    const fields = (problem?.invalid_parameters ?? []).map(
      (p) => `\n  ${p.field ?? 'body'}: ${p.reason ?? 'is invalid'}`,
    )
    return `Error: ${error.message} (HTTP ${error.status}${title}${trace})${fields.join('')}${hint}\n`
  }
  if (error instanceof CliError || error instanceof NetworkError) return `Error: ${error.message}\n`
  return `Error: unexpected error: ${String(error)}\n`
}

function jsonErrorOf(error: unknown): object {
  if (error instanceof ApiError) return error.problem ?? { status: error.status, detail: error.message }
  if (error instanceof CliError || error instanceof NetworkError) return { detail: error.message }
  return { detail: `unexpected error: ${String(error)}` }
}
