// Runs the store contract against a real SQLite file per test, plus what only SQLite has: pragmas,
// the migration ledger and a second connection writing while the first is open.

import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openSqliteDatabase, openSqliteStore } from '../../src/store/sqlite/index.js'
import type { Store } from '../../src/store/store.js'
import { StoreError } from '../../src/store/store.js'
import { parseTraceId } from '../../src/util/u64.js'
import { FIXED_ORG } from '../helpers/fixed-org.js'
import { storeContract } from './contract/store-contract.js'

const tempDirs: string[] = []
const storePaths = new WeakMap<Store, string>()

function freshDatabasePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ka-sqlite-'))
  tempDirs.push(dir)
  return join(dir, 'konnect-audit.db')
}

async function openAt(path: string): Promise<Store> {
  const store = await openSqliteStore({ path })
  storePaths.set(store, path)
  return store
}

async function reopen(closed: Store): Promise<Store> {
  const path = storePaths.get(closed)
  if (path === undefined) throw new Error('reopen got a store this test file did not open')
  return openAt(path)
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

storeContract('sqlite', () => openAt(freshDatabasePath()), { reopen })

describe('sqlite store', () => {
  const openedStores: Store[] = []
  const openedDatabases: Database.Database[] = []
  const track = <T extends Store | Database.Database>(opened: T, list: T[]): T => {
    list.push(opened)
    return opened
  }
  const openStore = async (path: string, busyTimeoutMs?: number) =>
    track(await openSqliteStore(busyTimeoutMs === undefined ? { path } : { path, busyTimeoutMs }), openedStores)
  const openRaw = (path: string) => track(new Database(path), openedDatabases)

  afterEach(async () => {
    for (const store of openedStores.splice(0)) await store.close()
    for (const db of openedDatabases.splice(0)) db.close()
  })

  const org = FIXED_ORG

  it('records each migration once and does not re-apply it on reopen', async () => {
    const path = freshDatabasePath()
    const first = await openStore(path)
    await first.bootstrap(org)
    await first.close()
    await openStore(path)

    const ledger = openRaw(path).prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
    expect(ledger).toEqual([
      { version: 1, name: '001_initial.sql' },
      { version: 2, name: '002_webhooks.sql' },
      { version: 3, name: '003_idempotency_keys.sql' },
      { version: 4, name: '004_delivery.sql' },
      { version: 5, name: '005_replay_jobs.sql' },
      { version: 6, name: '006_work_leases.sql' },
      { version: 7, name: '007_stream_slots.sql' },
    ])
  })

  it('refuses a database migrated by a newer konnect-audit', async () => {
    const path = freshDatabasePath()
    await (await openStore(path)).close()
    openRaw(path).prepare("INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')").run()

    const error = await openSqliteStore({ path }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('Upgrade konnect-audit') })
  })

  it('uses WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = track(openSqliteDatabase({ path: freshDatabasePath() }), openedDatabases)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('synchronous', { simple: true })).toBe(2)
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000)
  })

  it('keeps the database and its -wal and -shm files 0600, also when they were made wider before', async () => {
    const path = freshDatabasePath()
    writeFileSync(path, '', { mode: 0o644 })
    chmodSync(path, 0o644)
    const store = await openStore(path)
    await store.bootstrap(org)
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(file).mode & 0o777).toBe(0o600)
    await store.close()
  })

  it('stores trace_id as text', async () => {
    const path = freshDatabasePath()
    const store = await openStore(path)
    await store.bootstrap(org)
    const traceId = parseTraceId('18446744073709551615')
    await store.appendEvents(org.org.id, 10, [{ type: 'authentication', eventTsMs: 1, traceId, render: () => '{}' }])

    const row = openRaw(path).prepare('SELECT trace_id AS traceId, typeof(trace_id) AS storage FROM events').get()
    expect(row).toEqual({ traceId: '18446744073709551615', storage: 'text' })
  })

  it('commits appends of one event-loop turn together, each still all or nothing', async () => {
    const path = freshDatabasePath()
    const store = await openStore(path)
    await store.bootstrap(org)
    const traceId = parseTraceId('7')
    const draft = (line: string) => ({ type: 'authorization' as const, eventTsMs: 1, traceId, render: () => line })
    const failing = {
      ...draft(''),
      render: (): string => {
        throw new Error('render failed')
      },
    }
    const outcomes = await Promise.allSettled([
      store.appendEvents(org.org.id, 10, [draft('{"a":1}'), draft('{"a":2}')]),
      store.appendEvents(org.org.id, 10, [draft('{"b":1}'), failing]),
      store.appendEvents(org.org.id, 10, [draft('{"c":1}')]),
    ])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const third = outcomes[2]
    expect(third?.status === 'fulfilled' && third.value.map((event) => event.sequence)).toEqual([3])
    const lines = (await store.readEvents({ orgId: org.org.id, afterSequence: 0, throughSequence: 99, limit: 99 })).map(
      (e) => e.line.toString(),
    )
    expect(lines).toEqual(['{"a":1}', '{"a":2}', '{"c":1}'])
  })

  it('lets a second connection insert a token while the first store is open', async () => {
    const path = freshDatabasePath()
    const server = await openStore(path)
    await server.bootstrap(org)

    const operator = await openStore(path)
    const token = { ...org.adminToken, id: '11111111-2222-4333-8444-555555555555', secretHash: 'c'.repeat(64) }
    await operator.insertToken(token)
    await operator.close()

    expect(await server.findTokenByHash(token.secretHash)).toEqual(token)
  })

  it('reports a write blocked past the busy timeout as unavailable', async () => {
    const path = freshDatabasePath()
    const store = await openStore(path, 20)
    await store.bootstrap(org)
    const holder = openRaw(path)
    holder.exec('BEGIN IMMEDIATE')

    const error = await store.touchToken(org.adminToken.id, 5).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('locked') })
    holder.exec('ROLLBACK')
  })

  it('reports a database it cannot open as unavailable, naming the path', async () => {
    const path = join(freshDatabasePath(), 'missing-dir', 'konnect-audit.db')
    const error = await openSqliteStore({ path }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining(path) })
  })
})
