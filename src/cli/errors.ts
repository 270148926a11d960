// Owns the CLI's error vocabulary and the one mapping from an error to an exit code (SPEC.md §9.4).
// Only main.ts calls exitCodeFor; commands throw these errors and never exit themselves.

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
  return error instanceof CliError ? error.exitCode : EXIT.error
}
