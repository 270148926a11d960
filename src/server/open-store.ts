// Owns which store a server or an operator subcommand opens (SPEC.md §9.6): PostgreSQL when a
// database URL is configured, else SQLite in the data dir.

import { join } from 'node:path'
import { openPostgresStore } from '../store/postgres/index.js'
import { openSqliteStore } from '../store/sqlite/index.js'
import type { Store } from '../store/store.js'
import type { ServerConfig } from './config.js'
import { SQLITE_FILE } from './data-dir.js'

export function openConfiguredStore(config: ServerConfig): Promise<Store> {
  if (config.databaseUrl !== null) return openPostgresStore({ url: config.databaseUrl })
  return openSqliteStore({ path: join(config.dataDir, SQLITE_FILE) })
}
