// Owns the severity table of SPEC.md §3.3: severity is always derived by the server from an event's
// own fields, never taken from input. Pure; the authentication outcome names live here as its key.

/** The `<O>` of `AUTHENTICATION_OUTCOME_<O>` (SPEC.md §3.1). */
export const AUTHENTICATION_OUTCOMES = [
  'SUCCESS',
  'NOT_FOUND',
  'INVALID_PASSWORD',
  'TOKEN_EXPIRED',
  'LOCKED',
  'DISABLED',
  'INVALID',
] as const
export type AuthenticationOutcome = (typeof AUTHENTICATION_OUTCOMES)[number]

export const AUTHENTICATION_NAME_PREFIX = 'AUTHENTICATION_OUTCOME_'

const OUTCOME_SEVERITY: Readonly<Record<AuthenticationOutcome, number>> = {
  SUCCESS: 0,
  NOT_FOUND: 1,
  INVALID_PASSWORD: 1,
  TOKEN_EXPIRED: 1,
  LOCKED: 6,
  DISABLED: 6,
  INVALID: 7,
}

/** The fields severity depends on, per event type. */
export type SeverityFields =
  | { readonly type: 'authentication'; readonly name: string }
  | { readonly type: 'authorization'; readonly granted: boolean }
  | { readonly type: 'gateway_access'; readonly status: number }

function isOutcome(text: string): text is AuthenticationOutcome {
  return (AUTHENTICATION_OUTCOMES as readonly string[]).includes(text)
}

function authenticationSeverity(name: string): number {
  const outcome = name.startsWith(AUTHENTICATION_NAME_PREFIX) ? name.slice(AUTHENTICATION_NAME_PREFIX.length) : ''
  if (!isOutcome(outcome)) throw new RangeError(`not an authentication outcome name: ${name}`)
  return OUTCOME_SEVERITY[outcome]
}

function gatewayAccessSeverity(status: number): number {
  if (status === 401 || status === 403) return 6
  // The whole 5xx class, not only 500 (SPEC.md §10 note 17).
  if (status >= 500 && status <= 599) return 10
  return 1
}

export function severityOf(fields: SeverityFields): number {
  switch (fields.type) {
    case 'authentication':
      return authenticationSeverity(fields.name)
    case 'authorization':
      return fields.granted ? 1 : 6
    case 'gateway_access':
      return gatewayAccessSeverity(fields.status)
  }
}
