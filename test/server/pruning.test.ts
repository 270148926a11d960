// Tests retention pruning (SPEC.md §8) on a real server whose clock the test drives: only the
// prefix committed before now − retention goes (by rt, never event_ts), retained events stay one
// unbroken range, undelivered events move the cursor and count in undelivered_pruned, streams
// resuming into the pruned range get a gap, pull and counts stop seeing pruned events, expired
// Idempotency-Keys go; and the worker's schedule, transaction size, warning and stop.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRUNING_INTERVAL_MS, PruningWorker } from '../../src/server/workers/pruning.js'
import type { WorkerTimer } from '../../src/server/workers/timer.js'
import type { Store } from '../../src/store/store.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace, storedEvents } from '../helpers/stored-events.js'
import { TEST_LEASE, testClock } from '../helpers/test-clock.js'

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0)
const iso = (ms: number) => new Date(ms).toISOString()

function authz(principalId: string, eventTsMs?: number) {
  return {
    type: 'authorization',
    src: '198.51.100.7',
    principal_id: principalId,
    event_class_id: 'reports',
    name: 'Authz.reports',
    action: 'list',
    granted: true,
    ...(eventTsMs === undefined ? {} : { event_ts: iso(eventTsMs) }),
  }
}

/** Ingests and waits for the request's access event, so every event of it carries this clock time. */
async function ingest(server: TestServer, items: unknown[], headers: Record<string, string> = {}) {
  const response = await server.request('/v1/audit-events', {
    method: 'POST',
    body: JSON.stringify(items),
    headers: { 'content-type': 'application/json', ...headers },
  })
  expect(response.status).toBe(201)
  await eventsOfTrace(
    server.store,
    server.services.defaultOrgId,
    response.headers.get('konnect-audit-trace-id') ?? '',
    3,
  )
  return jsonOf(response)
}

async function storedSequences(store: Store, orgId: string): Promise<number[]> {
  const events = await store.readEvents({
    orgId,
    afterSequence: 0,
    throughSequence: Number.MAX_SAFE_INTEGER,
    limit: 1e6,
  })
  return events.map((event) => event.sequence)
}

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i)

/** The frames of a stream up to and including its first `event: gap` frame. */
async function gapOfStream(server: TestServer, lastEventId: number): Promise<unknown> {
  const response = await server.request('/v3/audit-logs/stream', { headers: { 'last-event-id': String(lastEventId) } })
  expect(response.status).toBe(200)
  const reader = response.body?.getReader()
  if (!reader) throw new Error('the stream has no body')
  const decoder = new TextDecoder()
  let text = ''
  for (let gap = null; gap === null; ) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream ended before a gap: ${text}`)
    text += decoder.decode(value, { stream: true })
    gap = /event: gap\ndata: (.*)\n\n/.exec(text)
    if (gap) {
      await reader.cancel()
      return JSON.parse(gap[1] ?? '')
    }
  }
  return null
}

describe('retention pruning on a server (--retention 1h)', () => {
  const clock = testClock(T0)
  let server: TestServer
  let orgId: string
  let cursorAtConfiguration: number
  let headAtT0: number
  let headBeforePass: number
  let oldTraceId: string
  let backdatedTraceId: string
  let countsBefore: number
  let report: Awaited<ReturnType<PruningWorker['run']>>

  const typeCounts = async () =>
    jsonOf(
      await server.request(
        `/v3/audit-logs/counts?${new URLSearchParams({
          'filter[ts][gte]': iso(T0 - HOUR_MS),
          'filter[ts][lte]': iso(T0 - 5 * MINUTE_MS),
          'filter[type]': 'authorization',
          interval: '1h',
        }).toString()}`,
      ),
    )

  beforeAll(async () => {
    server = await startTestServer({ retention: '1h' }, clock)
    orgId = server.services.defaultOrgId
    // Paused, so nothing is delivered and every later event stays undelivered.
    const configured = await server.request('/v2/audit-log-webhook', {
      method: 'PATCH',
      ...jsonBody({ endpoint: 'https://203.0.113.10/konnect', enabled: false }),
    })
    expect(configured.status).toBe(200)
    cursorAtConfiguration = (await jsonOf(await server.request('/v2/audit-log-webhook/status'))).delivered_sequence
    const old = await ingest(server, [authz('old', T0 - 10 * MINUTE_MS)], { 'idempotency-key': 'old-key' })
    oldTraceId = old.events[0].trace_id
    countsBefore = (await typeCounts()).total
    headAtT0 = await server.store.headSequence(orgId)

    // Committed later, but with an event_ts older than the pruning cutoff: rt decides, not event_ts.
    clock.nowMs = T0 + 20 * MINUTE_MS
    const backdated = await ingest(server, [authz('backdated', T0 + 20 * MINUTE_MS - 55 * MINUTE_MS)])
    backdatedTraceId = backdated.events[0].trace_id

    clock.nowMs = T0 + HOUR_MS + MINUTE_MS
    headBeforePass = await server.store.headSequence(orgId)
    report = await server.pruning.run()
  })
  afterAll(() => server.close())

  it('deletes exactly the prefix committed before now − retention, judged by rt, never by event_ts', async () => {
    expect(report).toMatchObject({ deletedEvents: headAtT0 })
    const traceIds = (await storedEvents(server.store, orgId)).map((event) => event.traceId)
    expect(traceIds).not.toContain(oldTraceId)
    expect(traceIds).toContain(backdatedTraceId)
  })

  it('leaves the retained events one unbroken range and the org head where it was', async () => {
    const head = await server.store.headSequence(orgId)
    expect(await storedSequences(server.store, orgId)).toEqual(range(headAtT0 + 1, head))
    expect(headBeforePass).toBeLessThanOrEqual(head)
    const next = await ingest(server, [authz('after-pass')])
    expect(next.first_sequence).toBeGreaterThan(head)
  })

  it('counts undelivered pruned events and starts delivery at the first retained event', async () => {
    const status = await jsonOf(await server.request('/v2/audit-log-webhook/status'))
    expect(report.undeliveredPruned).toBe(headAtT0 - cursorAtConfiguration)
    expect(status).toMatchObject({
      undelivered_pruned: headAtT0 - cursorAtConfiguration,
      delivered_sequence: headAtT0,
    })
  })

  it('announces a gap to a stream resuming from a pruned event', async () => {
    expect(await gapOfStream(server, 1)).toEqual({ after: 1, next: headAtT0 + 1, reason: 'pruned' })
  })

  it('no longer shows pruned events to pull or counts', async () => {
    const query = new URLSearchParams({
      'filter[ts][gte]': iso(T0 - 2 * HOUR_MS),
      'filter[ts][lte]': iso(T0 + 2 * HOUR_MS),
      'page[size]': '1000',
    })
    const pulled = await server.request(`/v3/audit-logs?${query.toString()}`, {
      headers: { accept: 'application/x-ndjson' },
    })
    const text = await pulled.text()
    expect(text).not.toContain(`"trace_id":${oldTraceId},`)
    expect(text).toContain(`"trace_id":${backdatedTraceId},`)
    expect(countsBefore).toBe(1)
    expect(await typeCounts()).toMatchObject({ total: 1, data: [{ start: '2026-11-26T11:00:00Z', count: 1 }] })
  })

  it('deletes Idempotency-Keys once they are 24 h old, and not before', async () => {
    expect(report.deletedIdempotencyKeys).toBe(0)
    expect(await server.store.findIdempotentResponse(orgId, 'old-key', 0)).not.toBeNull()
    clock.nowMs = T0 + 24 * HOUR_MS
    expect(await server.pruning.run()).toMatchObject({ deletedIdempotencyKeys: 1 })
    expect(await server.store.findIdempotentResponse(orgId, 'old-key', 0)).toBeNull()
  })
})

/** A timer that only records what the worker asks of it; the test fires the ticks. */
function recordingTimer() {
  const timer = {
    intervals: [] as number[],
    tasks: [] as Array<() => void>,
    cancelled: 0,
    every(intervalMs: number, task: () => void) {
      timer.intervals.push(intervalMs)
      timer.tasks.push(task)
      return () => {
        timer.cancelled += 1
      }
    },
    yieldToIo: async () => undefined,
  } satisfies WorkerTimer & Record<string, unknown>
  return timer
}

function recordingLog() {
  const warnings: Array<{ details: Record<string, unknown>; message: string }> = []
  return {
    warnings,
    warn: (details: Record<string, unknown>, message: string) => void warnings.push({ details, message }),
    error: (details: Record<string, unknown>) => {
      throw new Error(`unexpected pruning error: ${String(details.err)}`)
    },
  }
}

/** Lets a pass the worker started on its own finish: its store calls and yields settle within a turn. */
const settled = () => new Promise((resolve) => setImmediate(resolve))

describe('PruningWorker', () => {
  const clock = testClock(T0)
  let server: TestServer
  let orgId: string

  beforeAll(async () => {
    server = await startTestServer({ retention: '1h' }, clock)
    orgId = server.services.defaultOrgId
  })
  afterAll(() => server.close())

  const advance = (ms: number) => {
    clock.nowMs += ms
  }

  it('runs at start, then on every tick of the injected timer (10 minutes by default)', async () => {
    let passes = 0
    const store: Store = {
      ...server.store,
      listOrgs: () => {
        passes += 1
        return server.store.listOrgs()
      },
    }
    const first = await ingest(server, [authz('tick-1')])
    advance(2 * HOUR_MS)
    const timer = recordingTimer()
    const worker = new PruningWorker({
      store,
      clock,
      timer,
      log: recordingLog(),
      lease: TEST_LEASE,
      retentionMs: HOUR_MS,
    })
    worker.start()
    expect(timer.intervals).toEqual([PRUNING_INTERVAL_MS])
    await settled()
    expect(passes).toBe(1)
    expect(await storedSequences(server.store, orgId)).not.toContain(first.last_sequence)

    const expiring = await ingest(server, [authz('tick-2')])
    advance(2 * HOUR_MS)
    const kept = await ingest(server, [authz('tick-3')])
    timer.tasks[0]?.()
    await settled()
    expect(passes).toBe(2)
    const retained = await storedSequences(server.store, orgId)
    expect(retained[0]).toBeGreaterThan(expiring.last_sequence)
    expect(retained).toContain(kept.first_sequence)
    await worker.stop()
    expect(timer.cancelled).toBe(1)
  })

  it('deletes in transactions of at most maxPerTransaction and warns when it passes the cursor', async () => {
    const configured = await server.request('/v2/audit-log-webhook', {
      method: 'PATCH',
      ...jsonBody({ endpoint: 'https://203.0.113.10/konnect', enabled: false }),
    })
    expect(configured.status).toBe(200)
    await ingest(server, [authz('batch'), authz('batch'), authz('batch')])
    const before = await storedSequences(server.store, orgId)
    advance(2 * HOUR_MS)

    const transactionSizes: number[] = []
    const store: Store = {
      ...server.store,
      pruneEvents: async (...args) => {
        const outcome = await server.store.pruneEvents(...args)
        transactionSizes.push(outcome.deletedEvents)
        return outcome
      },
    }
    const log = recordingLog()
    const worker = new PruningWorker({
      store,
      clock,
      timer: recordingTimer(),
      log,
      lease: TEST_LEASE,
      retentionMs: HOUR_MS,
      maxPerTransaction: 2,
    })
    const report = await worker.run()
    expect(report.deletedEvents).toBe(before.length)
    expect(transactionSizes.every((size) => size <= 2)).toBe(true)
    expect(transactionSizes.reduce((sum, size) => sum + size, 0)).toBe(before.length)
    expect(transactionSizes.at(-1)).toBeLessThan(2)
    expect(report.undeliveredPruned).toBeGreaterThan(0)
    expect(log.warnings.map((warning) => warning.details)).toContainEqual(
      expect.objectContaining({ orgId, deliveredSequence: before.at(-1) }),
    )
    expect(log.warnings[0]?.message).toContain('retention pruned')
  })

  it('skips an org another replica prunes, and prunes it once that lease is released', async () => {
    const expiring = await ingest(server, [authz('leased')])
    advance(2 * HOUR_MS)
    const lease = { orgId, work: 'pruning', holder: 'other-replica' } as const
    expect(await server.store.claimLease({ ...lease, nowMs: clock.nowMs, leaseMs: 30_000 })).toBe(true)
    const worker = new PruningWorker({
      store: server.store,
      clock,
      timer: recordingTimer(),
      log: recordingLog(),
      lease: TEST_LEASE,
      retentionMs: HOUR_MS,
    })
    expect((await worker.run()).deletedEvents).toBe(0)
    expect(await storedSequences(server.store, orgId)).toContain(expiring.last_sequence)

    await server.store.releaseLease(orgId, 'pruning', 'other-replica')
    expect((await worker.run()).deletedEvents).toBeGreaterThan(0)
    expect(await storedSequences(server.store, orgId)).not.toContain(expiring.last_sequence)
    // The worker gave its own lease up after the pass.
    expect(await server.store.claimLease({ ...lease, nowMs: clock.nowMs, leaseMs: 30_000 })).toBe(true)
  })

  it('stops with the server: close() cancels the timer and a later pass touches nothing', async () => {
    await server.close()
    expect(await server.pruning.run()).toEqual({ deletedEvents: 0, undeliveredPruned: 0, deletedIdempotencyKeys: 0 })
  })
})
