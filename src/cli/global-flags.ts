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
  ['KONNECT_AUDIT_PROFILE', 'Profile to use when --profile is not given.'],
  ['KONNECT_AUDIT_SERVER', 'Server URL, used when --server is not given; it overrides the profile.'],
  [
    'KONNECT_AUDIT_TOKEN',
    "API token; it overrides the profile's token (login refuses to store one while it is set) and selects the org whose JWKS verify fetches.",
  ],
  ['KONNECT_AUDIT_LISTEN', 'serve: host:port to listen on, when --listen is not given (default 127.0.0.1:8080).'],
  ['KONNECT_AUDIT_DATA_DIR', 'serve and its subcommands: the data dir, when --data-dir is not given.'],
  ['KONNECT_AUDIT_DATABASE_URL', 'serve: a postgres:// URL, when --database is not given (SQLite otherwise).'],
  ['KONNECT_AUDIT_BOOTSTRAP_TOKEN', 'serve: the initial admin token to create on first start.'],
  [
    'KONNECT_AUDIT_LEASE_TIME',
    "serve on PostgreSQL: how long a replica leases an org's work, 3s to 10m (default 30s).",
  ],
  ['XDG_CONFIG_HOME', 'Base of the profile file (default ~/.config).'],
  ['XDG_DATA_HOME', 'Base of the default data dir of serve (default ~/.local/share).'],
  ['NO_COLOR', 'When non-empty, disables colour like --no-color.'],
]

/** The files the CLI and serve keep, for the man page. */
export const FILES: ReadonlyArray<readonly [string, string]> = [
  [
    '$XDG_CONFIG_HOME/konnect-audit/config.json',
    'Profiles: server URLs and tokens (mode 0600, in a 0700 directory); whoami and profile list print its path.',
  ],
  ['$XDG_DATA_HOME/konnect-audit/', 'The default data dir of serve (mode 0700).'],
  ['<data dir>/konnect-audit.db', 'The embedded SQLite store, with its -wal and -shm files (mode 0600).'],
  ['<data dir>/initial-admin-token', 'The admin token created on first start, written once (mode 0600).'],
  ['<data dir>/serve.lock', 'Held by the one serve running on a SQLite data dir.'],
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
