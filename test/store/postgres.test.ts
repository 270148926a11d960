// Runs the store contract against the real PostgreSQL, a fresh schema per store, plus what only
// PostgreSQL has: the migration ledger under concurrent openers, trace_id as text, group commit
// of one org's concurrent appends, and wake-ups between two stores sharing a schema (replicas).

import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/index.js'
import type { Store } from '../../src/store/store.js'
import { StoreError } from '../../src/store/store.js'
import { parseTraceId } from '../../src/util/u64.js'
import { FIXED_ORG, FIXED_ORG_ID } from '../helpers/fixed-org.js'
import {
  dropTestSchemas,
  freshSchemaName,
  requirePostgres,
  SKIP_POSTGRES,
  TEST_DATABASE_URL,
} from '../helpers/postgres.js'
import { storeContract } from './contract/store-contract.js'

const storeSchemas = new WeakMap<Store, string>()

async function openIn(schema: string, optimisticAppendAttempts?: number): Promise<Store> {
  const options = { url: TEST_DATABASE_URL, schema }
  const store = await openPostgresStore(
    optimisticAppendAttempts === undefined ? options : { ...options, optimisticAppendAttempts },
  )
  storeSchemas.set(store, schema)
  return store
}

async function reopen(closed: Store): Promise<Store> {
  const schema = storeSchemas.get(closed)
  if (schema === undefined) throw new Error('reopen got a store this test file did not open')
  return openIn(schema)
}

describe.skipIf(SKIP_POSTGRES)('postgres', () => {
  beforeAll(requirePostgres)
  afterAll(dropTestSchemas)

  storeContract('postgres', () => openIn(freshSchemaName()), { reopen })

  describe('postgres store', () => {
    const opened: Store[] = []
    const open = async (schema: string, optimisticAppendAttempts?: number) => {
      const store = await openIn(schema, optimisticAppendAttempts)
      opened.push(store)
      return store
    }
    const raw = async <T>(schema: string, sql: string): Promise<T[]> => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
      await client.connect()
      try {
        await client.query(`SET search_path = ${schema}`)
        return (await client.query(sql)).rows as T[]
      } finally {
        await client.end()
      }
    }
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close()
    })

    const orgId = FIXED_ORG_ID
    const org = FIXED_ORG
    const draft = (line: string) => ({
      type: 'authorization' as const,
      eventTsMs: 1,
      traceId: parseTraceId('7'),
      render: () => line,
    })

    it('migrates a schema once when replicas open it together, and records each migration', async () => {
      const schema = freshSchemaName()
      const replicas = await Promise.all([open(schema), open(schema), open(schema)])
      const created = await Promise.all(replicas.map((replica) => replica.bootstrap(org)))

      expect(created.filter(Boolean)).toHaveLength(1)
      expect(await raw(schema, 'SELECT version, name FROM schema_migrations ORDER BY version')).toEqual([
        { version: 1, name: '001_initial.sql' },
        { version: 2, name: '002_events_without_org_fk.sql' },
        { version: 3, name: '003_stream_slots.sql' },
      ])
    })

    it('refuses a schema migrated by a newer konnect-audit', async () => {
      const schema = freshSchemaName()
      await (await openIn(schema)).close()
      await raw(schema, "INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')")

      const error = await openIn(schema).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(StoreError)
      expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('Upgrade konnect-audit') })
    })

    it('stores trace_id as text and lines byte for byte', async () => {
      const schema = freshSchemaName()
      const store = await open(schema)
      await store.bootstrap(org)
      const line = '{"trace_id":18446744073709551615,"x":"\u00e9 \\ \u0000"}'
      await store.appendEvents(orgId, 10, [{ ...draft(line), traceId: parseTraceId('18446744073709551615') }])

      const [row] = await raw<{ trace_id: string; type: string; line: Buffer }>(
        schema,
        'SELECT trace_id, pg_typeof(trace_id)::text AS type, line FROM events',
      )
      expect(row).toMatchObject({ trace_id: '18446744073709551615', type: 'text' })
      expect(row?.line.toString('utf8')).toBe(line)
    })

    it.each([
      ['swapping the head, locking after lost races', undefined],
      ['always locking the org', 0],
    ])('keeps one org’s sequence gap-free across replicas appending at once (%s)', async (_how, attempts) => {
      const schema = freshSchemaName()
      const [a, b] = await Promise.all([open(schema, attempts), open(schema, attempts)])
      await a.bootstrap(org)
      const appends = Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).appendEvents(orgId, 10 + i, [draft(`{"i":${i},"n":0}`), draft(`{"i":${i},"n":1}`)]),
      )
      const committed = (await Promise.all(appends)).flat()

      const sequences = committed.map((event) => event.sequence).sort((x, y) => x - y)
      expect(sequences).toEqual(Array.from({ length: 80 }, (_, i) => i + 1))
      const stored = await b.readEvents({ orgId, afterSequence: 0, throughSequence: 999, limit: 999 })
      expect(stored.map((event) => event.sequence)).toEqual(sequences)
      const rts = stored.map((event) => event.rt)
      expect(rts).toEqual([...rts].sort((x, y) => x - y))
    })

    it('fails only the append whose render throws when appends share a transaction', async () => {
      const store = await open(freshSchemaName())
      await store.bootstrap(org)
      const failing = {
        ...draft(''),
        render: (): string => {
          throw new Error('render failed')
        },
      }
      const outcomes = await Promise.allSettled([
        store.appendEvents(orgId, 10, [draft('{"a":1}'), draft('{"a":2}')]),
        store.appendEvents(orgId, 10, [draft('{"b":1}'), failing]),
        store.appendEvents(orgId, 10, [draft('{"c":1}')]),
      ])

      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      const lines = await store.readEvents({ orgId, afterSequence: 0, throughSequence: 99, limit: 99 })
      expect(lines.map((event) => [event.sequence, event.line.toString()])).toEqual([
        [1, '{"a":1}'],
        [2, '{"a":2}'],
        [3, '{"c":1}'],
      ])
    })

    it('wakes another replica on commits, webhook changes, replay jobs and key rotations, but not itself', async () => {
      const schema = freshSchemaName()
      const [writer, listener] = await Promise.all([open(schema), open(schema)])
      await writer.bootstrap(org)
      const heard: string[] = []
      const heardByWriter: string[] = []
      listener.onEventsCommittedElsewhere((org, head) => heard.push(`events ${org} ${head}`))
      listener.onWebhookChange((org) => heard.push(`webhook ${org}`))
      listener.onReplayJobSubmitted((org) => heard.push(`replay ${org}`))
      listener.onKeysRotatedElsewhere((org) => heard.push(`keys ${org}`))
      writer.onEventsCommittedElsewhere((org, head) => heardByWriter.push(`events ${org} ${head}`))
      // Any statement makes sure the LISTEN connection is up before the writes.
      await listener.ping()
      await writer.ping()
      await waitFor(() => listening(schema, 2))

      await writer.appendEvents(orgId, 10, [draft('{}'), draft('{}')])
      const settings = {
        endpoint: 'https://siem.example/in',
        authorization: null,
        logFormat: 'json',
        skipSslVerification: false,
      } as const
      await writer.updateWebhook(orgId, 11, () => ({ target: { mode: 'inline', settings }, enabled: true }))
      await writer.submitReplayJob({ id: 'job-1', orgId, startAtMs: 0, endAtMs: 1000 }, 12)
      await writer.rotateKey(orgId, { ...org.key, kid: 'c'.repeat(40), publicKey: Buffer.alloc(32, 3) }, 13)

      await waitFor(() => heard.length === 4)
      expect(heard).toEqual([`events ${orgId} 2`, `webhook ${orgId}`, `replay ${orgId}`, `keys ${orgId}`])
      expect(heardByWriter).toEqual([])
    })

    it('listens again after its LISTEN connection is killed, on its next statement', async () => {
      const schema = freshSchemaName()
      const [writer, listener] = await Promise.all([open(schema), open(schema)])
      await writer.bootstrap(org)
      const heads: number[] = []
      listener.onEventsCommittedElsewhere((_org, head) => heads.push(head))
      await listener.ping()
      await waitFor(() => listening(schema, 1))
      await raw(
        schema,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN "konnect_audit.${schema}"'`,
      )
      await waitFor(async () => !(await listening(schema, 1)))

      // The workers' poll makes such a statement every few seconds.
      await waitFor(async () => {
        await listener.ping()
        return listening(schema, 1)
      })
      await writer.appendEvents(orgId, 10, [draft('{}')])
      await waitFor(() => heads.length === 1)
      expect(heads).toEqual([1])
    })

    it('reports an unreachable database as unavailable without its password', async () => {
      const error = await openPostgresStore({ url: 'postgres://user:s3cret@127.0.0.1:1/none' }).catch(
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(StoreError)
      expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('unreachable') })
      expect((error as Error).message).not.toContain('s3cret')
    })

    /** Whether `count` connections LISTEN on the schema's channel. */
    async function listening(schema: string, count: number): Promise<boolean> {
      const rows = await raw<{ count: number }>(
        schema,
        `SELECT count(*)::int AS count FROM pg_stat_activity WHERE query = 'LISTEN "konnect_audit.${schema}"'`,
      )
      return (rows[0]?.count ?? 0) >= count
    }
  })
})

/** Polls `check` every 20 ms for at most 5 s. */
async function waitFor(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 250; attempt++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('timed out after 5 s')
}
