// Owns the flags that pick the store, shared by `serve` and its operator subcommands.

import type { FlagSpec } from '../../define-command.js'

export const STORE_FLAGS = {
  dataDir: {
    kind: 'string',
    placeholder: 'dir',
    help: 'Data directory (default $XDG_DATA_HOME/konnect-audit; KONNECT_AUDIT_DATA_DIR)',
  },
  dev: {
    kind: 'boolean',
    help: 'Use ./.konnect-audit as the data dir and human-readable logs (endpoint safety stays on)',
  },
  database: {
    kind: 'string',
    placeholder: 'url',
    help: 'postgres:// URL for replicas (KONNECT_AUDIT_DATABASE_URL; their lease time: KONNECT_AUDIT_LEASE_TIME, default 30s)',
  },
} as const satisfies Record<string, FlagSpec>
