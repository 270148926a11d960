// Gives tests the real PostgreSQL (DESIGN.md §8): TEST_DATABASE_URL (trust auth on 127.0.0.1 by
// default), a fresh ka_<random> schema per store, every schema this run made dropped at the end.
// Unreachable fails with how to start it; KONNECT_AUDIT_SKIP_PG=1 skips the PostgreSQL tests.

import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const SKIP_POSTGRES = process.env.KONNECT_AUDIT_SKIP_PG === '1'

const createdSchemas = new Set<string>()

/** A schema name no other test or run uses; dropped by dropTestSchemas. */
export function freshSchemaName(): string {
  const schema = `ka_${randomBytes(6).toString('hex')}`
  createdSchemas.add(schema)
  return schema
}

/** A database URL whose connections use a fresh schema, created now and dropped by dropTestSchemas. */
export async function freshSchemaUrl(): Promise<string> {
  const schema = freshSchemaName()
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await client.end()
  }
  const url = new URL(TEST_DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

/** Fails with how to start PostgreSQL when it cannot be reached. */
export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    throw new Error(
      `PostgreSQL is unreachable at ${TEST_DATABASE_URL} (${(error as Error).message}). Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (or run .ci/run, which ' +
        'also sets up trust auth and the test database), set TEST_DATABASE_URL, or skip these tests with KONNECT_AUDIT_SKIP_PG=1.',
    )
  } finally {
    await client.end().catch(() => {})
  }
}

export async function dropTestSchemas(): Promise<void> {
  if (createdSchemas.size === 0) return
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    for (const schema of createdSchemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    createdSchemas.clear()
  } finally {
    await client.end()
  }
}
