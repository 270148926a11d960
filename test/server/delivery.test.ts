// Tests live delivery (SPEC.md §6) end to end: a real server and store, the webhook configured over
// its API, and real loopback receivers scripting 5xx, 429 + Retry-After, stalls, resets, refused
// connections and 413. A test clock drives batch windows, retries and probes (the worker settles at
// each clock time; nothing sleeps for a backoff), and every delivered line is verified with tweetnacl.

import { createServer } from 'node:net'
import nacl from 'tweetnacl'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { extractSigned } from '../../src/core/extract.js'
import { PRESIGN_LEAD_MS } from '../../src/server/services/event-writer.js'
import type { DeliveryOptions } from '../../src/server/workers/delivery.js'
import { DeliveryWorker } from '../../src/server/workers/delivery.js'
import type { StoredEvent } from '../../src/store/store.js'
import type { ReceivedRequest, Receiver, Reply } from '../helpers/receiver.js'
import { answer, ok, startReceiver } from '../helpers/receiver.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace } from '../helpers/stored-events.js'
import { strictWorkerLog, TEST_LEASE, testClock, testLoopOptions, tickingTimer } from '../helpers/test-clock.js'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const SECOND_MS = 1000
const ATTEMPT_TIMEOUT_MS = 300
const AUTHORIZATION = 'Splunk 6c1e0f5a-secret'
const iso = (ms: number) => new Date(ms).toISOString()
const msOf = (timestamp: string) => Date.parse(timestamp)

const clock = testClock(T0)

const warnings: string[] = []
const log = strictWorkerLog('delivery', warnings)

let server: TestServer
let orgId: string
let worker: DeliveryWorker
let receiver: Receiver

/** A worker over the test server's store, bus and keys, with a fixed jitter (factor 1) and a short budget. */
function startWorker(overrides: Partial<DeliveryOptions> = {}): DeliveryWorker {
  const started = new DeliveryWorker({ ...testLoopOptions(server, clock, log, ATTEMPT_TIMEOUT_MS), ...overrides })
  started.start()
  return started
}

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true }, clock)
  orgId = server.services.defaultOrgId
  // The server's own worker runs on the system timer; these tests drive their own.
  await server.delivery.stop()
})
afterAll(() => server.close())

beforeEach(async () => {
  clock.nowMs += 3_600_000
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  receiver = await startReceiver()
  worker = startWorker()
})
afterEach(async () => {
  await worker.stop()
  await receiver.close()
})

const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''

/** A mutating request whose access event (written after the response) is stored before this returns. */
async function mutate(path: string, method: string, body?: unknown, on: TestServer = server): Promise<Response> {
  const response = await on.request(path, { method, ...(body === undefined ? {} : jsonBody(body)) })
  await eventsOfTrace(on.store, on.services.defaultOrgId, traceOf(response), 3)
  return response
}

/** Configures the webhook; returns the cursor it starts at. */
async function configure(fields: Record<string, unknown> = {}): Promise<number> {
  const body = { endpoint: receiver.url, enabled: true, log_format: 'json', authorization: AUTHORIZATION, ...fields }
  const response = await mutate('/v2/audit-log-webhook', 'PATCH', body)
  expect(response.status).toBe(200)
  return (await cursorAndHead()).cursor
}

function gatewayAccess(index: number, queryBytes = 10) {
  return {
    type: 'gateway_access',
    src: '198.51.100.7',
    principal_id: `principal-${index}`,
    request: `/api/v1/services/${index}`,
    act: 'POST',
    status: 200 + (index % 300),
    query: `{"q":"${'x'.repeat(queryBytes)}"}`,
  }
}

async function ingest(count: number, queryBytes?: number): Promise<void> {
  const items = Array.from({ length: count }, (_, index) => gatewayAccess(index, queryBytes))
  expect((await mutate('/v1/audit-events', 'POST', items)).status).toBe(201)
}

async function cursorAndHead(): Promise<{ cursor: number; head: number }> {
  const webhook = await server.store.getWebhook(orgId)
  return { cursor: webhook?.delivery.deliveredSequence ?? 0, head: await server.store.headSequence(orgId) }
}

async function status() {
  const response = await server.request('/v2/audit-log-webhook/status')
  expect(response.status).toBe(200)
  return jsonOf(response)
}

async function storedAfter(cursor: number): Promise<StoredEvent[]> {
  return server.store.readEvents({ orgId, afterSequence: cursor, throughSequence: Number.MAX_SAFE_INTEGER, limit: 1e6 })
}

/** Moves the clock past every batch window and settles until the cursor reaches the head (bounded). */
async function deliverAll(workers: readonly DeliveryWorker[] = [worker]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    clock.nowMs += SECOND_MS
    await Promise.all(workers.map((each) => each.settle()))
    const { cursor, head } = await cursorAndHead()
    if (cursor === head) return
  }
  throw new Error(`delivery did not catch up: ${JSON.stringify(await cursorAndHead())}`)
}

const isSuccess = (reply: Reply) => reply.kind === 'status' && reply.status >= 200 && reply.status < 300
const delivered = () => receiver.requests.filter((request) => isSuccess(request.reply))
const rangeOf = (request: ReceivedRequest | undefined) => request?.headers['konnect-audit-sequence-range']

/** The sequence range a request's header names, as numbers. */
function sequencesOf(request: ReceivedRequest): { first: number; last: number } {
  const [first = Number.NaN, last = Number.NaN] = String(rangeOf(request)).split('-').map(Number)
  return { first, last }
}

async function verifiesWithActiveKey(line: string): Promise<boolean> {
  const { publicKey } = await server.store.activeKey(orgId)
  const extraction = extractSigned(Buffer.from(line, 'utf8'))
  return (
    extraction.kind === 'signed' &&
    nacl.sign.detached.verify(extraction.message, extraction.signature, new Uint8Array(publicKey))
  )
}

/** Every event from the configured cursor to the head arrived in 2xx batches, in order, exactly once each. */
async function expectEverythingDeliveredInOrder(startCursor: number): Promise<void> {
  const stored = await storedAfter(startCursor)
  const ranges = delivered().map(sequencesOf)
  expect(ranges[0]?.first).toBe(startCursor + 1)
  ranges.forEach((range, index) => {
    if (index > 0) expect(range.first).toBe((ranges[index - 1]?.last ?? 0) + 1)
  })
  expect(ranges.at(-1)?.last).toBe(stored.at(-1)?.sequence)
  expect(delivered().flatMap((request) => request.lines)).toEqual(stored.map((event) => event.line.toString('utf8')))
}

describe('batches and headers (SPEC.md §6.1)', () => {
  it.each(['json', 'cef', 'cps'] as const)('delivers %s lines that each verify on their own', async (format) => {
    const startCursor = await configure({ log_format: format })
    await ingest(3)
    await deliverAll()
    const stored = await storedAfter(startCursor)
    const lines = delivered().flatMap((request) => request.lines)
    expect(lines).toHaveLength(stored.length)
    for (const line of lines) expect(await verifiesWithActiveKey(line)).toBe(true)
    stored.forEach((event, index) => {
      const storedLine = event.line.toString('utf8')
      const traceId = /"trace_id":(\d+)/.exec(storedLine)?.[1]
      if (format === 'json') expect(lines[index]).toBe(storedLine)
      if (format === 'cps') expect(lines[index]).toBe(`{"event":${storedLine}}`)
      if (format === 'cef') expect(lines[index]).toContain(` trace_id=${traceId} `)
    })
    for (const request of receiver.requests) expect(request.text.endsWith('\n')).toBe(true)
  })

  it('sends the delivery headers and records the success in the status', async () => {
    const startCursor = await configure()
    await ingest(2)
    await deliverAll()
    const [request] = receiver.requests
    const { last } = sequencesOf(request ?? delivered()[0] ?? ({} as ReceivedRequest))
    expect(request?.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      authorization: AUTHORIZATION,
      'user-agent': expect.stringMatching(/^konnect-audit\/\d+\.\d+\.\d+/),
      'konnect-audit-org-id': orgId,
      'konnect-audit-delivery': 'live',
      'konnect-audit-sequence-range': `${startCursor + 1}-${last}`,
    })
    expect(await status()).toMatchObject({
      webhook_enabled: true,
      webhook_status: 'active',
      last_attempt_at: iso(clock.nowMs),
      last_response_code: 200,
      last_response_message: 'OK',
      last_success_at: iso(clock.nowMs),
      next_attempt_at: null,
      consecutive_failures: 0,
      delivered_sequence: last,
    })
  })

  it('sends a full batch of 1000 at once and the rest 1 s after its oldest commit', async () => {
    const startCursor = await configure()
    await ingest(1000)
    await worker.settle()
    expect(receiver.requests.map((request) => request.lines.length)).toEqual([1000])
    expect(sequencesOf(receiver.requests[0] ?? ({} as ReceivedRequest)).first).toBe(startCursor + 1)
    // The batch's commit time lies PRESIGN_LEAD_MS ahead (ingest signs ahead); the wait counts from it.
    clock.nowMs += PRESIGN_LEAD_MS + SECOND_MS - 1
    await worker.settle()
    expect(receiver.requests).toHaveLength(1)
    clock.nowMs += 1
    await worker.settle()
    expect(receiver.requests).toHaveLength(2)
    await deliverAll()
    await expectEverythingDeliveredInOrder(startCursor)
  })

  it('cuts batches at 1 MiB of lines, consecutive and in order', async () => {
    const startCursor = await configure()
    await ingest(250, 4000)
    await ingest(250, 4000)
    await deliverAll()
    expect(delivered().length).toBeGreaterThan(2)
    for (const request of delivered()) expect(Buffer.byteLength(request.text)).toBeLessThanOrEqual(1_048_576)
    await expectEverythingDeliveredInOrder(startCursor)
  })
})

/** A closed loopback port, for refused connections. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Moves the clock to the scheduled attempt and settles; returns the status afterwards. */
async function attemptWhenScheduled(): Promise<Awaited<ReturnType<typeof status>>> {
  const before = await status()
  expect(before.next_attempt_at).not.toBeNull()
  clock.nowMs = msOf(before.next_attempt_at)
  await worker.settle()
  return status()
}

describe('retries, inactive, probing and recovery (SPEC.md §6.3)', () => {
  const failures: Array<[string, Reply, number, string, number]> = [
    ['500', answer(500), 500, 'Internal Server Error', 0],
    ['429 with Retry-After', answer(429, { 'retry-after': '20' }), 429, 'Too Many Requests', 20 * SECOND_MS],
    ['a stall past the timeout', { kind: 'hang' }, 0, `timeout after ${ATTEMPT_TIMEOUT_MS / 1000}s`, 0],
    ['a reset connection', { kind: 'reset' }, 0, 'connection error: other side closed', 0],
  ]

  it.each(failures)(
    'retries %s 4 times, goes inactive keeping the cursor, probes the same batch, and delivers everything once restored',
    async (_name, failure, code, message, retryAfterMs) => {
      receiver.answerWith(failure)
      const startCursor = await configure()
      await ingest(2)
      clock.nowMs += SECOND_MS
      await worker.settle()
      const firstRange = rangeOf(receiver.requests[0])
      const quickDelaysMs = [1, 2, 4, 8].map((seconds) => Math.max(seconds * SECOND_MS, retryAfterMs))
      let current = await status()
      for (const [retry, delayMs] of quickDelaysMs.entries()) {
        expect(current).toMatchObject({
          webhook_status: 'active',
          consecutive_failures: retry + 1,
          last_response_code: code,
          last_response_message: message,
          delivered_sequence: startCursor,
        })
        expect(msOf(current.next_attempt_at) - msOf(current.last_attempt_at)).toBe(delayMs)
        current = await attemptWhenScheduled()
      }
      expect(current).toMatchObject({
        webhook_enabled: true,
        webhook_status: 'inactive',
        consecutive_failures: 5,
        last_response_code: code,
        last_response_message: message,
        delivered_sequence: startCursor,
      })
      expect(msOf(current.next_attempt_at) - clock.nowMs).toBe(Math.max(30 * SECOND_MS, retryAfterMs))
      expect(current.lag_events).toBe(current.head_sequence - startCursor)
      expect(warnings.at(-1)).toMatch(/^webhook inactive/)

      current = await attemptWhenScheduled()
      expect(current).toMatchObject({ webhook_status: 'inactive', consecutive_failures: 6 })
      expect(msOf(current.next_attempt_at) - clock.nowMs).toBe(60 * SECOND_MS)
      // Every attempt re-sent the same batch, though the status requests committed events meanwhile.
      expect(receiver.requests.map(rangeOf)).toEqual(new Array(6).fill(firstRange))

      receiver.answerWith(ok)
      current = await attemptWhenScheduled()
      expect(current).toMatchObject({ webhook_status: 'active', consecutive_failures: 0, next_attempt_at: null })
      await deliverAll()
      await expectEverythingDeliveredInOrder(startCursor)
    },
  )

  it('counts refused connections, then a configuration change resets the status and attempts at once', async () => {
    const port = await closedPort()
    const startCursor = await configure({ endpoint: `http://127.0.0.1:${port}/hook` })
    await ingest(2)
    clock.nowMs += SECOND_MS
    await worker.settle()
    for (let retry = 0; retry < 4; retry++) await attemptWhenScheduled()
    const inactive = await status()
    expect(inactive).toMatchObject({
      webhook_status: 'inactive',
      consecutive_failures: 5,
      last_response_code: 0,
      last_response_message: `connection error: connect ECONNREFUSED 127.0.0.1:${port}`,
      delivered_sequence: startCursor,
    })

    await configure({ endpoint: receiver.url })
    expect(await status()).toMatchObject({ webhook_status: 'active', consecutive_failures: 0, next_attempt_at: null })
    await worker.settle()
    expect(sequencesOf(receiver.requests[0] ?? ({} as ReceivedRequest)).first).toBe(startCursor + 1)
    expect(await status()).toMatchObject({ webhook_status: 'active', last_response_code: 200 })
    await deliverAll()
    await expectEverythingDeliveredInOrder(startCursor)
  })

  it('goes inactive at once on a non-retryable answer and honours Retry-After on a probe', async () => {
    receiver.script(answer(401), answer(503, { 'retry-after': '240' }))
    await configure()
    await ingest(1)
    clock.nowMs += SECOND_MS
    await worker.settle()
    const refused = await status()
    expect(refused).toMatchObject({
      webhook_status: 'inactive',
      consecutive_failures: 1,
      last_response_code: 401,
      last_response_message: 'Unauthorized',
    })
    expect(msOf(refused.next_attempt_at) - clock.nowMs).toBe(30 * SECOND_MS)
    const probed = await attemptWhenScheduled()
    expect(probed).toMatchObject({ webhook_status: 'inactive', last_response_code: 503 })
    expect(msOf(probed.next_attempt_at) - clock.nowMs).toBe(240 * SECOND_MS)
    await attemptWhenScheduled()
    expect(await status()).toMatchObject({ webhook_status: 'active', last_response_code: 200 })
  })
})

describe('413 splitting (SPEC.md §6.3)', () => {
  it('re-sends the same events at once in half-size batches, then returns to the normal size', async () => {
    receiver.answerWith((request) => (request.lines.length > 100 ? answer(413) : ok))
    const startCursor = await configure()
    await ingest(250)
    await deliverAll()
    const sizes = receiver.requests.map((request) => request.lines.length)
    const first = sizes[0] ?? 0
    expect(sizes.slice(0, 3)).toEqual([first, Math.ceil(first / 2), Math.ceil(Math.ceil(first / 2) / 2)])
    expect(receiver.requests.slice(0, 2).map((request) => request.reply)).toEqual([answer(413), answer(413)])
    await expectEverythingDeliveredInOrder(startCursor)

    await ingest(90)
    await deliverAll()
    expect(delivered().at(-1)?.lines.length).toBeGreaterThan(Math.ceil(Math.ceil(first / 2) / 2))
    await expectEverythingDeliveredInOrder(startCursor)
  })

  it('treats a 413 for a single event as non-retryable', async () => {
    receiver.answerWith(answer(413))
    const startCursor = await configure()
    await ingest(5)
    clock.nowMs += SECOND_MS
    await worker.settle()
    expect(receiver.requests.at(-1)?.lines).toHaveLength(1)
    expect(await status()).toMatchObject({
      webhook_status: 'inactive',
      last_response_code: 413,
      last_response_message: 'Payload Too Large',
      delivered_sequence: startCursor,
    })
  })
})

describe('pausing, stopping and unconfiguring (SPEC.md §6.4)', () => {
  it('sends nothing while disabled, and resumes from the cursor when enabled again', async () => {
    const startCursor = await configure()
    await ingest(2)
    await deliverAll()
    const { cursor } = await cursorAndHead()
    const sent = receiver.requests.length
    await mutate('/v2/audit-log-webhook', 'PATCH', { enabled: false })
    await ingest(3)
    clock.nowMs += 10 * SECOND_MS
    await worker.settle()
    expect(receiver.requests).toHaveLength(sent)
    expect((await cursorAndHead()).cursor).toBe(cursor)

    await mutate('/v2/audit-log-webhook', 'PATCH', { enabled: true })
    await worker.settle()
    expect(sequencesOf(receiver.requests[sent] ?? ({} as ReceivedRequest)).first).toBe(cursor + 1)
    await deliverAll()
    await expectEverythingDeliveredInOrder(startCursor)
  })

  it('schedules nothing while paused: an inactive webhook disabled shows no next attempt', async () => {
    receiver.answerWith(answer(503))
    await configure()
    await ingest(1)
    clock.nowMs += SECOND_MS
    await worker.settle()
    for (let round = 0; round < 10 && (await status()).webhook_status !== 'inactive'; round++) {
      await attemptWhenScheduled()
    }
    expect(await status()).toMatchObject({ webhook_status: 'inactive', next_attempt_at: expect.any(String) })
    await mutate('/v2/audit-log-webhook', 'PATCH', { enabled: false })
    expect(await status()).toMatchObject({ webhook_enabled: false, webhook_status: 'inactive', next_attempt_at: null })
  })

  it('stops delivering once the webhook is deleted', async () => {
    await configure()
    expect((await mutate('/v3/audit-log-webhook', 'DELETE')).status).toBe(204)
    await ingest(2)
    clock.nowMs += 10 * SECOND_MS
    await worker.settle()
    expect(receiver.requests).toHaveLength(0)
  })

  it('abandons the attempt in flight on stop, keeping the cursor and recording nothing', async () => {
    await worker.stop()
    worker = startWorker({ attemptTimeoutMs: 60_000 })
    receiver.answerWith({ kind: 'hang' })
    const startCursor = await configure()
    await ingest(1)
    clock.nowMs += SECOND_MS
    const settling = worker.settle()
    await receiver.request(0)
    const stoppingAtMs = Date.now()
    await worker.stop()
    await settling
    expect(Date.now() - stoppingAtMs).toBeLessThan(5000)
    expect(await server.store.getWebhook(orgId)).toMatchObject({
      delivery: { deliveredSequence: startCursor, lastAttempt: null, consecutiveFailures: 0 },
    })
  })
})

describe('leases among replicas (SPEC.md §6.5)', () => {
  it('delivers nothing while another replica holds the lease, and takes over once it lapses', async () => {
    const startCursor = await configure()
    await worker.stop()
    const lease = { orgId, work: 'delivery', holder: 'other-replica', leaseMs: TEST_LEASE.leaseMs } as const
    expect(await server.store.claimLease({ ...lease, nowMs: clock.nowMs })).toBe(true)
    worker = startWorker()
    await ingest(2)
    clock.nowMs += TEST_LEASE.leaseMs - 1
    await worker.settle()
    expect(receiver.requests).toHaveLength(0)

    clock.nowMs += 1
    await deliverAll()
    await expectEverythingDeliveredInOrder(startCursor)
    expect(await server.store.claimLease({ ...lease, nowMs: clock.nowMs })).toBe(false)
  })

  it('renews the lease while an attempt hangs, and abandons the attempt once another replica holds it', async () => {
    const heartbeat = tickingTimer()
    await worker.stop()
    worker = startWorker({ timer: heartbeat.timer, attemptTimeoutMs: 60 * SECOND_MS })
    receiver.answerWith({ kind: 'hang' })
    const startCursor = await configure()
    await ingest(2)
    clock.nowMs += SECOND_MS
    const settled = worker.settle()
    await receiver.request(0)
    const attemptStartMs = clock.nowMs
    const other = { orgId, work: 'delivery', holder: 'other-replica', leaseMs: TEST_LEASE.leaseMs } as const
    const renewals = () => new Promise((resolve) => setImmediate(resolve))

    // The heartbeat renews the lease from this time, so it outlives the term it was claimed with.
    clock.nowMs = attemptStartMs + TEST_LEASE.leaseMs / 3
    heartbeat.tick()
    await renewals()
    clock.nowMs = attemptStartMs + TEST_LEASE.leaseMs + SECOND_MS
    expect(await server.store.claimLease({ ...other, nowMs: clock.nowMs })).toBe(false)

    // Unrenewed (a stalled process), the lease lapses and another replica claims it.
    clock.nowMs = attemptStartMs + TEST_LEASE.leaseMs / 3 + TEST_LEASE.leaseMs + SECOND_MS
    expect(await server.store.claimLease({ ...other, nowMs: clock.nowMs })).toBe(true)
    heartbeat.tick()
    await settled
    expect(receiver.requests).toHaveLength(1)
    expect((await cursorAndHead()).cursor).toBe(startCursor)

    await server.store.releaseLease(orgId, 'delivery', other.holder)
    receiver.answerWith(ok)
    await deliverAll()
    await expectEverythingDeliveredInOrder(startCursor)
  })

  it('lets one of two workers deliver, and the other take over at once when the first stops', async () => {
    const startCursor = await configure()
    const second = startWorker({ lease: { ...TEST_LEASE, holder: 'second-replica' } })
    try {
      await ingest(3)
      await deliverAll([worker, second])
      await worker.stop()
      await ingest(2)
      await deliverAll([second])
      await expectEverythingDeliveredInOrder(startCursor)
    } finally {
      await second.stop()
    }
  })
})

describe('the server runs the worker (DESIGN.md §1)', () => {
  it('delivers with its own worker and stops it on close', async () => {
    const ownClock = { nowMs: T0, now: () => ownClock.nowMs }
    const own = await startTestServer({ allowInsecureEndpoints: true }, ownClock)
    try {
      const response = await mutate('/v2/audit-log-webhook', 'PATCH', { endpoint: receiver.url, enabled: true }, own)
      expect(response.status).toBe(200)
      ownClock.nowMs += SECOND_MS
      await own.delivery.settle()
      expect(receiver.requests.length).toBeGreaterThan(0)
      expect(receiver.requests[0]?.headers['konnect-audit-org-id']).toBe(own.services.defaultOrgId)
    } finally {
      await own.close()
    }
  })
})
