// Owns the PostgreSQL connections of the store: one pool (bigint read as a number, the schema on
// the search path), transactions, and driver errors mapped to StoreError, with the URL's credentials
// never in a message.

import pg from 'pg'
import { redactedUrl } from '../../util/redact-url.js'
import { StoreError } from '../store.js'

export interface ConnectionOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string
  /** The schema every connection uses, created if missing; the server's search_path when absent. */
  readonly schema?: string
  readonly maxConnections?: number
}

/**
 * A statement of the hot paths (appends, token checks), which PostgreSQL parses and plans once per
 * connection instead of on every call. Its name must be unique to its text.
 */
export interface NamedStatement {
  readonly name: string
  readonly text: string
}

export type Sql = string | NamedStatement

/** What statements run on: the pool (each statement its own transaction) or one open transaction. */
export interface Queryable {
  rows<T>(sql: Sql, values?: readonly unknown[]): Promise<T[]>
  /** The first row, or null. */
  row<T>(sql: Sql, values?: readonly unknown[]): Promise<T | null>
  /** How many rows the statement changed. */
  changes(sql: Sql, values?: readonly unknown[]): Promise<number>
}

const DEFAULT_MAX_CONNECTIONS = 10
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/
const BIGINT_OID = 20

/**
 * Sequences, counts and epoch-ms times all stay below 2^53, so bigint columns come back as numbers;
 * trace_id, the one 64-bit value that may not, is stored as text.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === BIGINT_OID && format !== 'binary'
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

function connectionConfig(options: ConnectionOptions): pg.ClientConfig {
  const { schema } = options
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new RangeError(`Bad schema name ${schema}`)
  return {
    connectionString: options.url,
    types,
    application_name: 'konnect-audit',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  }
}

// Connection, resources, operator action, system, authentication, missing database or schema,
// serialization and internal errors: nothing the request did wrong.
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57', '58', '28', '3D', '3F', '40', 'XX']
const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']

/** Maps a driver error to StoreError; anything else (a bug, a render error) passes unchanged. */
export function storeErrorOf(error: unknown, database: string): unknown {
  if (error instanceof StoreError || !(error instanceof Error)) return error
  const code = (error as { code?: unknown }).code
  if (error instanceof pg.DatabaseError && typeof code === 'string') {
    // Foreign keys reference orgs, except the webhook's destination, which every write that could
    // break it checks first under the org's lock; so a failed one means the org does not exist.
    if (code === '23503') return new StoreError('not_found', `Unknown org (${error.message})`)
    if (code.startsWith('23')) return new StoreError('conflict', `Conflicts with stored data: ${error.message}`)
    if (UNAVAILABLE_SQLSTATE_CLASSES.some((prefix) => code.startsWith(prefix))) {
      return new StoreError('unavailable', `${database} cannot be used (${code}: ${error.message}).`)
    }
    return error
  }
  const lostConnection =
    (typeof code === 'string' && NETWORK_CODES.includes(code)) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message)
  if (!lostConnection) return error
  return new StoreError(
    'unavailable',
    `${database} is unreachable (${error.message}). Check that PostgreSQL runs and that the URL is right.`,
  )
}

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  const run = (sql: Sql, values: readonly unknown[] = []) =>
    client.query(typeof sql === 'string' ? { text: sql, values: [...values] } : { ...sql, values: [...values] })
  return {
    rows: async <T>(sql: Sql, values?: readonly unknown[]) => (await run(sql, values)).rows as T[],
    row: async <T>(sql: Sql, values?: readonly unknown[]) =>
      ((await run(sql, values)).rows[0] as T | undefined) ?? null,
    changes: async (sql: Sql, values?: readonly unknown[]) => (await run(sql, values)).rowCount ?? 0,
  }
}

/** The store's pool: statements, transactions and the closed state, with errors already mapped. */
export class Database {
  /** Names the database in messages: the URL without its credentials. */
  readonly label: string
  private readonly pool: pg.Pool
  private readonly onPool: Queryable
  private closed = false

  constructor(private readonly options: ConnectionOptions) {
    this.label = `The PostgreSQL database ${redactedUrl(options.url)}`
    this.pool = new pg.Pool({ ...connectionConfig(options), max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS })
    // An idle connection that breaks is dropped; the next statement gets a new one.
    this.pool.on('error', () => {})
    this.onPool = queryable(this.pool)
  }

  /** The schema of the options, if any: the migrations create it. */
  get schema(): string | null {
    return this.options.schema ?? null
  }

  /** Runs statements on the pool, each its own transaction. */
  use<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    return this.mapped(() => fn(this.onPool))
  }

  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.mapped(async () => {
      const client = await this.pool.connect()
      let broken = false
      try {
        await client.query('BEGIN')
        const result = await fn(queryable(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        broken = await client.query('ROLLBACK').then(
          () => false,
          () => true,
        )
        throw error
      } finally {
        client.release(broken)
      }
    })
  }

  /** Runs `fn` on one pooled connection of its own (session state such as an advisory lock). */
  withConnection<T>(fn: (session: Queryable) => Promise<T>): Promise<T> {
    return this.mapped(async () => {
      const client = await this.pool.connect()
      let failed = false
      try {
        return await fn(queryable(client))
      } catch (error) {
        failed = true
        throw error
      } finally {
        // A connection that failed mid-session may hold a lock or a transaction: never reuse it.
        client.release(failed)
      }
    })
  }

  /** A connection of its own, outside the pool (LISTEN); the caller ends it. */
  async dedicatedClient(): Promise<pg.Client> {
    const client = new pg.Client(connectionConfig(this.options))
    await this.mapped(() => client.connect())
    return client
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }

  private async mapped<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('unavailable', `${this.label} store is closed`)
    try {
      return await fn()
    } catch (error) {
      throw storeErrorOf(error, this.label)
    }
  }
}
