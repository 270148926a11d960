// Owns what both adapters share about migrations (DESIGN.md §7): the numbered, forward-only SQL
// files of a dialect's migrations/ folder, and the refusal to open a schema a newer release made.

import { readdirSync, readFileSync } from 'node:fs'
import { StoreError } from './store.js'

export interface Migration {
  readonly version: number
  readonly name: string
  /** The SQL, run in one transaction. */
  readonly sql: string
}

const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/

/** The folder's migrations in version order. */
export function readMigrations(dir: URL): Migration[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const version = MIGRATION_FILE.exec(name)?.[1]
      return version === undefined
        ? []
        : [{ version: Number(version), name, sql: readFileSync(new URL(name, dir), 'utf8') }]
    })
    .sort((a, b) => a.version - b.version)
}

/** Throws unavailable when the schema has a version this release does not know. */
export function refuseNewerSchema(applied: Iterable<number>, known: readonly Migration[], database: string): void {
  const newestKnown = known.at(-1)?.version ?? 0
  const newestApplied = Math.max(0, ...applied)
  if (newestApplied > newestKnown) {
    throw new StoreError(
      'unavailable',
      `${database} has schema version ${newestApplied}, but this konnect-audit knows only up to ${newestKnown}. Upgrade konnect-audit.`,
    )
  }
}
