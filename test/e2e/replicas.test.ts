// The replica tests (issue 7, SPEC.md §6.5): three built `serve` processes share one PostgreSQL
// schema with a 3 s lease. Ingest is spread across all three while the replica holding the org's
// delivery lease sends to a loopback receiver; that replica is killed with SIGKILL while a batch is
// at the receiver, unanswered. Another replica takes the lapsed lease over and delivers from the
// durable cursor: every stored line after the cursor at configuration arrives, byte for byte and
// verifying, the sequence has no gap, and the only duplicates are the batch in flight at the kill.
// A stream client of one replica sees events ingested on another well before its 5 s poll, and a
// key rotated through one replica signs what another commits next.

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { generateTokenSecret } from '../../src/core/tokens.js'
import { LineVerifier } from '../../src/core/verify.js'
import type { Delivery, IngestProgress } from '../helpers/e2e.js'
import {
  api,
  arrivedBetween,
  checkDeliveries,
  duplicateLines,
  ingestBody,
  ingestUntil,
  pullAllLines,
  startCountingReceiver,
  waitUntil,
} from '../helpers/e2e.js'
import { dropTestSchemas, freshSchemaUrl, requirePostgres, SKIP_POSTGRES } from '../helpers/postgres.js'
import type { ServeProcess } from '../helpers/spawn-server.js'
import { spawnServe, within } from '../helpers/spawn-server.js'
import { tempDir } from '../helpers/temp-files.js'

const LEASE_ENV = { KONNECT_AUDIT_LEASE_TIME: '3s' }
const TOTAL_EVENTS = 15_000
const ITEMS_PER_BATCH = 250
const REPLY_DELAY_MS = 20
/** The live request (0-based) at whose arrival the delivering replica is killed. */
const KILL_AT_REQUEST = 4
/** The 3 s lease lapsing, the 5 s poll finding it, and the rest delivered. */
const TAKEOVER_AND_DELIVERY_MS = 30_000
const CLASS_ID = 'replicas'
const body = (batch: number) => ingestBody(batch, ITEMS_PER_BATCH, CLASS_ID)

/** The pid in the holder of the org's delivery lease (`host/pid/uuid`), if a lease runs. */
async function deliveryLeaseHolderPid(url: string, orgId: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ holder: string }>(
      "SELECT holder FROM work_leases WHERE org_id = $1 AND work = 'delivery' AND lease_until > 0",
      [orgId],
    )
    const pid = rows[0]?.holder.split('/')[1]
    return pid === undefined ? null : Number(pid)
  } finally {
    await client.end()
  }
}

/** How many events the org has and its highest sequence: equal when the sequence has no gap. */
async function sequenceSpan(url: string, orgId: string): Promise<{ count: number; max: number }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ count: number; max: number }>(
      'SELECT count(*)::int AS count, max(sequence)::int AS max FROM events WHERE org_id = $1',
      [orgId],
    )
    return rows[0] ?? { count: 0, max: 0 }
  } finally {
    await client.end()
  }
}

/** Whether the line verifies with the org's active key alone, and that key is `kid`. */
async function verifiesWithActiveKey(url: string, token: string, line: Buffer, kid: string): Promise<boolean> {
  const jwks = await fetch(`${url}/v2/audit-log-webhook/jwks.json`, { headers: { authorization: `Bearer ${token}` } })
  const [active] = readJwks(await jwks.text()).keys
  if (active?.kid !== kid) return false
  return new LineVerifier([active]).verify(line).status === 'valid'
}

/** Polls `check` every 100 ms for at most 5 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('timed out after 5 s')
}

/** Replicas started together, so the schema is migrated and the first org created by exactly one. */
async function startReplicas(count: number, url: string): Promise<{ replicas: ServeProcess[]; token: string }> {
  const dir = tempDir('ka-replicas-')
  const token = generateTokenSecret()
  const tokenFile = dir.write('admin.token', `${token}\n`)
  const replicas = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      spawnServe(
        [
          ...['--data-dir', dir.path(`replica-${index}`), '--database', url],
          ...['--bootstrap-token-file', tokenFile, '--allow-insecure-endpoints'],
        ],
        LEASE_ENV,
      ),
    ),
  )
  return { replicas, token }
}

describe.skipIf(SKIP_POSTGRES)('replicas on PostgreSQL', () => {
  beforeAll(requirePostgres)
  afterAll(dropTestSchemas)

  it('delivers every event once another replica takes over from one killed mid-delivery', {
    timeout: 90_000,
  }, async () => {
    const url = await freshSchemaUrl()
    const { replicas, token } = await startReplicas(3, url)
    const receiver = await startCountingReceiver(REPLY_DELAY_MS, KILL_AT_REQUEST)
    try {
      const [first, second] = replicas as [ServeProcess, ServeProcess, ServeProcess]
      const orgId: string = (await api(first.url, token, 'GET', '/v1/whoami')).org.id
      // Configured paused on one replica and enabled on another, so the cursor is read before it can move.
      await api(first.url, token, 'PATCH', '/v2/audit-log-webhook', {
        endpoint: receiver.url,
        log_format: 'json',
        enabled: false,
      })
      const cursorAtConfiguration: number = (await api(second.url, token, 'GET', '/v2/audit-log-webhook/status'))
        .delivered_sequence
      await api(second.url, token, 'PATCH', '/v2/audit-log-webhook', { enabled: true })

      let killed: ServeProcess | null = null
      const killedBatch = new Promise<Delivery>((resolve, reject) => {
        receiver.onHold = (delivery) => {
          deliveryLeaseHolderPid(url, orgId)
            .then((pid) => {
              killed = replicas.find((replica) => replica.child.pid === pid) ?? null
              if (killed === null) throw new Error(`the lease holder (pid ${pid}) is none of the replicas`)
              killed.child.kill('SIGKILL')
              resolve(delivery)
            })
            .catch(reject)
        }
      })
      const progress: IngestProgress = { acknowledged: 0, batches: 0, unexpected: [] }
      const ingesting = Promise.all(
        replicas.map((replica) =>
          ingestUntil(replica.url, token, progress, TOTAL_EVENTS, body, () => killed === replica),
        ),
      )
      const inFlight = await within(killedBatch, 20_000, `live request ${KILL_AT_REQUEST} did not arrive`)
      const victim = killed as ServeProcess | null
      if (victim === null) throw new Error('no replica was killed')
      expect(await within(victim.exited, 5000, 'the killed replica did not exit')).toEqual({
        code: null,
        signal: 'SIGKILL',
      })
      await within(ingesting, 30_000, 'the ingest across the surviving replicas did not finish')
      expect(progress.unexpected).toEqual([])

      const survivors = replicas.filter((replica) => replica !== victim)
      const survivor = survivors[0] as ServeProcess
      const status = await api(survivor.url, token, 'GET', '/v2/audit-log-webhook/status')
      const head: number = status.head_sequence
      await waitUntil(
        () => arrivedBetween(receiver, cursorAtConfiguration, head) === head - cursorAtConfiguration,
        TAKEOVER_AND_DELIVERY_MS,
        () =>
          `sequences ${cursorAtConfiguration + 1}-${head} at the receiver (${head - cursorAtConfiguration - arrivedBetween(receiver, cursorAtConfiguration, head)} missing)`,
      )

      const stored = await pullAllLines(survivor.url, token)
      expect(stored.length).toBeGreaterThanOrEqual(head)
      const span = await sequenceSpan(url, orgId)
      expect(span.count, 'sequences 1..max, none missing').toBe(span.max)
      const ingested = stored.filter((line) => line.includes(`"event_class_id":"${CLASS_ID}"`)).length
      expect(ingested).toBeGreaterThanOrEqual(progress.acknowledged)
      const jwks = await fetch(`${survivor.url}/v2/audit-log-webhook/jwks.json`)
      const verifier = new LineVerifier(readJwks(await jwks.text()).keys)
      checkDeliveries(receiver, stored, verifier, { orgId, cursorAtConfiguration, head })
      // The batch in flight at the kill got no 2xx: it came again, and nothing else did.
      expect(duplicateLines(receiver)).toBe(inFlight.lines.length)
      console.info(
        `replicas: ${head - cursorAtConfiguration} events delivered in ${receiver.deliveries.length} requests; ` +
          `killed pid ${victim.child.pid} with ${inFlight.first}-${inFlight.last} in flight`,
      )

      for (const replica of survivors) {
        expect(await replica.stop('SIGTERM'), 'SIGTERM is a normal shutdown').toEqual({ code: 0, signal: null })
      }
    } finally {
      receiver.onHold = null
      for (const replica of replicas) replica.child.kill('SIGKILL')
      await receiver.close()
    }
  })

  it('holds the limit of 32 live streams per org across replicas', { timeout: 30_000 }, async () => {
    const url = await freshSchemaUrl()
    const { replicas, token } = await startReplicas(2, url)
    const [first, second] = replicas as [ServeProcess, ServeProcess]
    const aborts: AbortController[] = []
    const open = async (replica: ServeProcess) => {
      const abort = new AbortController()
      aborts.push(abort)
      const response = await fetch(`${replica.url}/v3/audit-logs/stream`, {
        headers: { authorization: `Bearer ${token}` },
        signal: abort.signal,
      })
      return { status: response.status, close: () => abort.abort() }
    }
    try {
      const streams = []
      for (let i = 0; i < 32; i++) streams.push(await open(i % 2 === 0 ? first : second))
      expect(streams.map((stream) => stream.status)).toEqual(streams.map(() => 200))
      expect((await open(first)).status).toBe(429)
      expect((await open(second)).status).toBe(429)
      // A stream closed on one replica frees its slot for the other.
      streams[0]?.close()
      await waitFor(async () => {
        const next = await open(second)
        return next.status === 200
      })
    } finally {
      for (const abort of aborts) abort.abort()
      for (const replica of replicas) await replica.stop('SIGTERM')
    }
  })

  it('streams events ingested on one replica to a client of another, and signs with a key rotated on another', {
    timeout: 30_000,
  }, async () => {
    const url = await freshSchemaUrl()
    const { replicas, token } = await startReplicas(2, url)
    const [writer, reader] = replicas as [ServeProcess, ServeProcess]
    const abort = new AbortController()
    try {
      const stream = await fetch(`${reader.url}/v3/audit-logs/stream`, {
        headers: { authorization: `Bearer ${token}` },
        signal: abort.signal,
      })
      expect(stream.status).toBe(200)
      const frames = (stream.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader()
      const acknowledged = await fetch(`${writer.url}/v1/audit-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: body(0),
      })
      expect(acknowledged.status).toBe(201)
      const ackedAt = Date.now()
      const ingested = (await acknowledged.json()) as { events: Array<{ trace_id: string }> }
      const lastTraceId = ingested.events.at(-1)?.trace_id
      // Well under the stream's 5 s poll: only the writer's NOTIFY can bring it this soon.
      const seen = async () => {
        let text = ''
        while (!text.includes(`"trace_id":${lastTraceId},`)) {
          const { value, done } = await frames.read()
          if (done) throw new Error('the stream ended')
          text += value
        }
      }
      await within(seen(), 2500, 'the event ingested on the other replica did not reach the stream')
      console.info(`replicas: an event ingested on one replica reached another's stream in ${Date.now() - ackedAt} ms`)

      // A key rotated through one replica signs what the other commits next.
      const rotated = await fetch(`${writer.url}/v1/keys/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(rotated.status).toBe(201)
      const { kid } = (await rotated.json()) as { kid: string }
      await waitFor(async () => {
        const [line] = await pullAllLines(reader.url, token).then((lines) => lines.slice(-1))
        return line !== undefined && (await verifiesWithActiveKey(reader.url, token, line, kid))
      })
    } finally {
      abort.abort()
      for (const replica of replicas) await replica.stop('SIGTERM')
    }
  })
})
