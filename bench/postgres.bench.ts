// Benchmark of PostgreSQL ingest (target: >= 10,000 events/s durable with one replica): durable
// ingest events/s (100 events a request) of `serve --database` with one replica and with two on
// one schema sharing the load, each against SQLite ingest measured in the same run.
// KA_BENCH_PG_EVENTS events a case; each PostgreSQL case gets a fresh ka_<hex> schema in
// TEST_DATABASE_URL, dropped afterwards. Unreachable (or KONNECT_AUDIT_SKIP_PG=1) skips them.

import { afterAll, bench, describe } from 'vitest'
import { dropTestSchemas, freshSchemaUrl, requirePostgres, SKIP_POSTGRES } from '../test/helpers/postgres.js'
import type { ServerProcess } from './server-process.js'
import { INGEST_CONNECTIONS, ingestEvents, startServerProcess } from './server-process.js'
import { report } from './support.js'

const EVENTS = Number(process.env.KA_BENCH_PG_EVENTS ?? 100_000)
const POSTGRES_TARGET = 10_000
const once = { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 }
const rates: { sqlite?: number; oneReplica?: number; twoReplicas?: number } = {}

/** Why the PostgreSQL cases cannot run, or null when they can. */
async function postgresSkipReason(): Promise<string | null> {
  if (SKIP_POSTGRES) return 'skipped: KONNECT_AUDIT_SKIP_PG=1'
  try {
    await requirePostgres()
    return null
  } catch (error) {
    return `skipped: ${(error as Error).message}`
  }
}

const skipPostgres = await postgresSkipReason()

/** Runs `fn` with the URL of a fresh schema (search_path in the URL's options), dropped afterwards. */
async function withFreshSchema<T>(fn: (databaseUrl: string) => Promise<T>): Promise<T> {
  try {
    return await fn(await freshSchemaUrl())
  } finally {
    await dropTestSchemas()
  }
}

/** Starts `count` replicas (the first bootstraps the admin token the others reuse), ingests EVENTS across them. */
async function ingestRate(count: number, extraArgs: readonly string[] = []): Promise<number> {
  const replicas: ServerProcess[] = []
  try {
    for (let i = 0; i < count; i++) {
      const adminToken = replicas[0]?.token
      replicas.push(await startServerProcess(extraArgs, adminToken === undefined ? {} : { adminToken }))
    }
    return EVENTS / (await ingestEvents(replicas, EVENTS))
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()))
  }
}

describe('postgres', () => {
  bench(
    `SQLite: ingest ${EVENTS} events, one server`,
    async () => {
      rates.sqlite = await ingestRate(1)
    },
    once,
  )

  bench.skipIf(skipPostgres !== null)(
    `PostgreSQL: ingest ${EVENTS} events, one replica`,
    async () => {
      rates.oneReplica = await withFreshSchema((url) => ingestRate(1, ['--database', url]))
    },
    once,
  )

  bench.skipIf(skipPostgres !== null)(
    `PostgreSQL: ingest ${EVENTS} events split across two replicas`,
    async () => {
      rates.twoReplicas = await withFreshSchema((url) => ingestRate(2, ['--database', url]))
    },
    once,
  )
})

afterAll(() => {
  const { sqlite = 0, oneReplica, twoReplicas } = rates
  const againstSqlite = (rate: number | undefined, target: string) =>
    rate === undefined
      ? (skipPostgres ?? 'did not run')
      : `${rate.toFixed(0)} events/s = ${(rate / sqlite).toFixed(2)}x SQLite ${target}`
  report('PostgreSQL ingest (same run)', [
    [`SQLite, durable, ${INGEST_CONNECTIONS} connections`, `${sqlite.toFixed(0)} events/s`],
    [
      `PostgreSQL, 1 replica, ${INGEST_CONNECTIONS} connections`,
      againstSqlite(oneReplica, `(target >= ${POSTGRES_TARGET})`),
    ],
    [`PostgreSQL, 2 replicas, ${INGEST_CONNECTIONS} connections each`, againstSqlite(twoReplicas, '(no target)')],
  ])
})
