// Owns the global flags of SPEC.md §9.1 and the program's own description, shared by the
// commander tree (main.ts) and the generated completions and man page (docs/).

import type { FlagSpec } from './define-command.js'

export const BIN = 'konnect-audit'

export const PROGRAM_SUMMARY =
  'Self-hosted, Konnect-compatible audit logging: serve, deliver, pull and verify signed events'

export const GLOBAL_FLAGS = {
  profile: { kind: 'string', placeholder: 'name', help: 'Profile to use (default: the current profile)' },
  server: { kind: 'string', placeholder: 'url', help: 'Server URL, overriding the profile' },
  json: { kind: 'boolean', help: 'Print machine-readable JSON on stdout' },
  noInput: { kind: 'boolean', help: 'Never prompt; fail with a usage error instead' },
  noColor: { kind: 'boolean', help: 'Disable colour (also NO_COLOR)' },
  quiet: { kind: 'boolean', short: 'q', help: 'Print only data, warnings that matter, and errors' },
  debug: { kind: 'boolean', help: 'Log HTTP requests to stderr, with secrets redacted' },
} as const satisfies Record<string, FlagSpec>

export const ROOT_EXAMPLES = [`${BIN} verify audit.ndjson.gz --jwks jwks.json`]

/** The environment variables the CLI reads, for the man page. */
export const ENVIRONMENT: ReadonlyArray<readonly [string, string]> = [
  ['KONNECT_AUDIT_SERVER', 'Server URL, used when --server is not given.'],
  ['KONNECT_AUDIT_TOKEN', 'API token; it selects the org whose JWKS verify fetches.'],
  ['NO_COLOR', 'When non-empty, disables colour like --no-color.'],
]

/** SPEC.md §9.4. */
export const EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [0, 'success, including "no results"'],
  [1, 'other error: I/O, network, API 4xx/5xx, a file or JWKS that cannot be read'],
  [2, 'usage: bad flags or arguments, missing input without a prompt, no server configured'],
  [3, 'verification failed: any invalid, unsigned or malformed line'],
  [4, 'not authenticated: no token, or HTTP 401'],
  [5, 'conflict: any HTTP 409'],
  [130, 'interrupted (SIGINT)'],
]
