// Owns the client's view of a failed API call: the HTTP status and the problem+json body the
// server sent (SPEC.md §5.1), kept whole for `--json` and formatted for people by the CLI.

export interface Problem {
  readonly status?: number
  readonly title?: string
  readonly type?: string
  readonly instance?: string
  readonly detail?: string
  readonly invalid_parameters?: ReadonlyArray<{ readonly field?: string; readonly reason?: string }>
}

export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    readonly statusText: string,
  ) {
    super(problem?.detail ?? statusText)
  }
}

/** A request that never got an HTTP answer (DNS, connection, TLS, timeout). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError'

  /** `retryable` false: trying again cannot help (a certificate that does not verify). */
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message)
  }
}

/** The problem+json body of an error response, or null when the body is something else. */
export function problemOf(body: Buffer): Problem | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    return typeof parsed === 'object' && parsed !== null ? (parsed as Problem) : null
  } catch {
    return null
  }
}
