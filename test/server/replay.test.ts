// Tests replay jobs (SPEC.md §5.6, §7) end to end: a real server and store, the webhook configured
// over its API, jobs submitted with PUT, and real loopback receivers scripting 2xx, 401, 500, 413
// and stalls. A test clock drives quick retries (the worker settles at each clock time; nothing
// sleeps), and every replayed line is checked byte for byte against what live delivery would send
// and verified with tweetnacl.

import nacl from 'tweetnacl'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { extractSigned } from '../../src/core/extract.js'
import { renderBatch } from '../../src/server/services/delivery-lines.js'
import { DeliveryWorker } from '../../src/server/workers/delivery.js'
import type { ReplayOptions } from '../../src/server/workers/replay.js'
import { ReplayWorker } from '../../src/server/workers/replay.js'
import type { LogFormat, StoredEvent } from '../../src/store/store.js'
import { backdatedAuthorizationBatches } from '../helpers/backdated-items.js'
import type { ReceivedRequest, Receiver, Reply } from '../helpers/receiver.js'
import { answer, ok, startReceiver } from '../helpers/receiver.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace } from '../helpers/stored-events.js'
import { strictWorkerLog, TEST_LEASE, testClock, testLoopOptions } from '../helpers/test-clock.js'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const SECOND_MS = 1000
const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
const ATTEMPT_TIMEOUT_MS = 300
const AUTHORIZATION = 'Splunk 6c1e0f5a-replay-secret'
const NEVER = '0001-01-01T00:00:00Z'
const iso = (ms: number) => new Date(ms).toISOString()
const isoSeconds = (ms: number) => `${iso(ms).slice(0, 19)}Z`

const clock = testClock(T0)

const warnings: string[] = []
const log = strictWorkerLog('replay', warnings)

let server: TestServer
let orgId: string
let worker: ReplayWorker | null
let receiver: Receiver

function startWorker(overrides: Partial<ReplayOptions> = {}): ReplayWorker {
  const started = new ReplayWorker({ ...testLoopOptions(server, clock, log, ATTEMPT_TIMEOUT_MS), ...overrides })
  started.start()
  worker = started
  return started
}

async function settle(): Promise<void> {
  if (worker === null) throw new Error('no replay worker running')
  await worker.settle()
}

beforeAll(async () => {
  server = await startTestServer({ allowInsecureEndpoints: true }, clock)
  orgId = server.services.defaultOrgId
  // The server's own workers run on the system timer; these tests drive their own. Live delivery
  // stays stopped unless a test starts it, so the receiver sees only replay batches.
  await server.delivery.stop()
  await server.replay.stop()
})
afterAll(() => server.close())

beforeEach(async () => {
  // A job a previous test left active (its worker stopped mid-job) would answer every PUT with 409.
  const left = await server.store.getReplayJob(orgId)
  if (left && ['accepted', 'pending', 'running'].includes(left.status)) {
    await server.store.finishReplayJob(orgId, left.id, { status: 'failed', error: 'test reset' }, clock.nowMs)
  }
  clock.nowMs += 3 * HOUR_MS
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  receiver = await startReceiver()
  worker = null
})
afterEach(async () => {
  await worker?.stop()
  await receiver.close()
})

const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''

/** A mutating request whose access event (written after the response) is stored before this returns. */
async function mutate(path: string, method: string, body?: unknown): Promise<Response> {
  const response = await server.request(path, { method, ...(body === undefined ? {} : jsonBody(body)) })
  // Reading a copy frees the connection now; a body left unread is aborted when collected, and
  // undici then reconnects, leaving idle connections that hold the server's close open.
  await response.clone().arrayBuffer()
  await eventsOfTrace(server.store, orgId, traceOf(response), 3)
  return response
}

async function configure(fields: Record<string, unknown> = {}): Promise<void> {
  const body = { endpoint: receiver.url, enabled: true, log_format: 'json', authorization: AUTHORIZATION, ...fields }
  expect((await mutate('/v2/audit-log-webhook', 'PATCH', body)).status).toBe(200)
}

/** Ingests one authorization event per time (back-dated), in the order given; returns their sequences. */
async function ingestAt(timesMs: readonly number[]): Promise<number[]> {
  const sequences: number[] = []
  for (const items of backdatedAuthorizationBatches(timesMs)) {
    const response = await mutate('/v1/audit-events', 'POST', items)
    expect(response.status).toBe(201)
    const body = await jsonOf(response)
    sequences.push(...body.events.map((event: { sequence: number }) => event.sequence))
  }
  return sequences
}

/** A window that ends an hour before the clock, so the API's own audit events (stamped now) fall outside it. */
function pastWindow(): { startMs: number; endMs: number } {
  const endMs = clock.nowMs - HOUR_MS
  return { startMs: endMs - HOUR_MS, endMs }
}

async function putJob(startAt: string, endAt: string, version: 'v2' | 'v3' = 'v2'): Promise<Response> {
  return mutate(`/${version}/audit-log-replay-job`, 'PUT', { start_at: startAt, end_at: endAt })
}

/** A configured webhook, an event at the start (and the end) of a past window, a job over it and a worker. */
async function replayPastWindow(eventsAt: 'start' | 'both ends'): Promise<{ startMs: number; endMs: number }> {
  await configure()
  const window = pastWindow()
  await ingestAt(eventsAt === 'start' ? [window.startMs] : [window.startMs, window.endMs])
  await startJob(window.startMs, window.endMs)
  startWorker()
  return window
}

async function startJob(startMs: number, endMs: number): Promise<void> {
  const response = await putJob(isoSeconds(startMs), isoSeconds(endMs))
  expect(response.status).toBe(202)
}

async function job(version: 'v2' | 'v3' = 'v2', token?: string) {
  const response = await server.request(`/${version}/audit-log-replay-job`, token === undefined ? {} : { token })
  expect(response.status).toBe(200)
  return jsonOf(response)
}

const replayed = () => receiver.requests.filter((request) => request.headers['konnect-audit-delivery'] === 'replay')
const isSuccess = (reply: Reply) => reply.kind === 'status' && reply.status >= 200 && reply.status < 300
const acknowledgedLines = () =>
  replayed()
    .filter((request) => isSuccess(request.reply))
    .flatMap((request) => request.lines)

async function storedBySequence(sequences: readonly number[]): Promise<StoredEvent[]> {
  const all = await server.store.readEvents({
    orgId,
    afterSequence: 0,
    throughSequence: Number.MAX_SAFE_INTEGER,
    limit: 1e6,
  })
  const wanted = new Set(sequences)
  return all.filter((event) => wanted.has(event.sequence))
}

/** The lines live delivery would send for these events now (CEF signed with the active key). */
async function liveLines(events: readonly StoredEvent[], format: LogFormat): Promise<string[]> {
  const batch = await renderBatch(events, format, { signers: server.services.signers, orgId }, events.length)
  return batch.body.toString('utf8').split('\n').slice(0, -1)
}

async function verifiesWith(line: string, publicKey: Buffer): Promise<boolean> {
  const extraction = extractSigned(Buffer.from(line, 'utf8'))
  return (
    extraction.kind === 'signed' &&
    nacl.sign.detached.verify(extraction.message, extraction.signature, new Uint8Array(publicKey))
  )
}

describe('the job before any PUT (SPEC.md §5.6)', () => {
  it('is the exact unconfigured body under /v2 and /v3', async () => {
    const fresh = await startTestServer()
    try {
      for (const version of ['v2', 'v3']) {
        const response = await fresh.request(`/${version}/audit-log-replay-job`)
        expect(response.status).toBe(200)
        expect(await response.text()).toBe(
          `{"start_at":"${NEVER}","end_at":"${NEVER}","status":"unconfigured","updated_at":"${NEVER}","progress":{"total":0,"sent":0},"error":null}`,
        )
      }
    } finally {
      await fresh.close()
    }
  })
})

describe('selection and lines (SPEC.md §7)', () => {
  it('replays exactly start_at ≤ event_ts ≤ end_at in sequence order, json lines byte-identical and verifying', async () => {
    await configure()
    const { startMs, endMs } = pastWindow()
    // Committed out of event_ts order, so sequence order and time order differ.
    const outside = [startMs - SECOND_MS, endMs + SECOND_MS]
    const times = [endMs, outside[0], startMs + 10 * SECOND_MS, outside[1], startMs, endMs - SECOND_MS] as number[]
    const sequences = await ingestAt(times)
    const selected = sequences.filter((_, index) => !outside.includes(times[index] as number))
    // A fraction and an offset: truncated, stored and echoed as UTC whole seconds.
    const startAt = `${iso(startMs + HOUR_MS).slice(0, 19)}.999+01:00`
    const response = await putJob(startAt, iso(endMs + 999))
    expect(response.status).toBe(202)
    const accepted = await jsonOf(response)
    expect(accepted).toEqual({
      start_at: isoSeconds(startMs),
      end_at: isoSeconds(endMs),
      status: 'accepted',
      updated_at: iso(clock.nowMs),
      progress: { total: 0, sent: 0 },
      error: null,
    })

    startWorker()
    await settle()
    expect(await job()).toEqual({ ...accepted, status: 'completed', progress: { total: 4, sent: 4 } })
    expect(await job('v3')).toEqual(await job('v2'))
    const stored = await storedBySequence(selected)
    expect(stored.map((event) => event.sequence)).toEqual(selected)
    expect(acknowledgedLines()).toEqual(stored.map((event) => event.line.toString('utf8')))
    expect(acknowledgedLines()).toEqual(await liveLines(stored, 'json'))
    const { publicKey } = await server.store.activeKey(orgId)
    for (const line of acknowledgedLines()) expect(await verifiesWith(line, publicKey)).toBe(true)
  })

  it('sends the replay headers, no sequence range, gzip and the Authorization verbatim', async () => {
    await replayPastWindow('both ends')
    await settle()
    const [request] = replayed()
    expect(request?.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      authorization: AUTHORIZATION,
      'user-agent': expect.stringMatching(/^konnect-audit\/\d+\.\d+\.\d+/),
      'konnect-audit-org-id': orgId,
      'konnect-audit-delivery': 'replay',
    })
    expect(request?.headers).not.toHaveProperty('konnect-audit-sequence-range')
    expect(request?.text.endsWith('\n')).toBe(true)
  })

  it.each(['cef', 'cps'] as const)(
    're-renders %s lines with the key active at replay time, as live delivery would',
    async (format) => {
      await configure({ log_format: format })
      const { startMs, endMs } = pastWindow()
      const sequences = await ingestAt([startMs, startMs + SECOND_MS, endMs])
      const oldKey = await server.store.activeKey(orgId)
      expect((await mutate('/v1/keys/rotate', 'POST')).status).toBe(201)
      const newKey = await server.store.activeKey(orgId)
      await startJob(startMs, endMs)
      startWorker()
      await settle()
      const stored = await storedBySequence(sequences)
      const lines = acknowledgedLines()
      expect(lines).toEqual(await liveLines(stored, format))
      for (const line of lines) {
        expect(await verifiesWith(line, newKey.publicKey)).toBe(format === 'cef')
        expect(await verifiesWith(line, oldKey.publicKey)).toBe(format === 'cps')
      }
    },
  )

  it('leaves out events committed after the job started running, even inside the window', async () => {
    receiver.script(answer(500))
    await configure()
    const { startMs, endMs } = pastWindow()
    const before = await ingestAt([startMs, endMs])
    await startJob(startMs, endMs)
    startWorker()
    await settle()
    expect(await job()).toMatchObject({ status: 'running', progress: { total: 2, sent: 0 } })
    await ingestAt([startMs + SECOND_MS, endMs])
    clock.nowMs += SECOND_MS
    await settle()
    expect(await job()).toMatchObject({ status: 'completed', progress: { total: 2, sent: 2 } })
    const stored = await storedBySequence(before)
    expect(acknowledgedLines()).toEqual(stored.map((event) => event.line.toString('utf8')))
  })

  it('cuts batches at 1000 events and keeps their order; a 413 halves them', async () => {
    receiver.answerWith((request) => (request.lines.length > 300 ? answer(413) : ok))
    await configure()
    const { startMs, endMs } = pastWindow()
    const times = Array.from({ length: 1200 }, (_, index) => startMs + (index % 3600) * SECOND_MS)
    const sequences = await ingestAt(times)
    await startJob(startMs, endMs)
    startWorker()
    await settle()
    expect(await job()).toMatchObject({ status: 'completed', progress: { total: 1200, sent: 1200 } })
    expect(
      replayed()
        .map((request) => request.lines.length)
        .slice(0, 3),
    ).toEqual([1000, 500, 250])
    const stored = await storedBySequence(sequences)
    expect(acknowledgedLines()).toEqual(stored.map((event) => event.line.toString('utf8')))
  })
})

describe('validation (SPEC.md §5.6, in order)', () => {
  const problemOf = async (response: Response) => {
    const body = await jsonOf(response)
    return { status: response.status, detail: body.detail, invalid: body.invalid_parameters }
  }
  const bodyError = (field: string, rule: string, reason: string) => [{ field, rule, reason, source: 'body' }]

  it('answers each 400 in the documented order, before the webhook is even looked at', async () => {
    const nowMs = clock.nowMs
    const past = isoSeconds(nowMs - HOUR_MS)
    const cases: Array<[string, Record<string, unknown>, unknown]> = [
      [
        'both missing',
        {},
        [
          { field: 'start_at', rule: 'required', reason: 'is a required field', source: 'body' },
          { field: 'end_at', rule: 'required', reason: 'is a required field', source: 'body' },
        ],
      ],
      [
        'not RFC 3339',
        { start_at: 'yesterday', end_at: past },
        bodyError('start_at', 'is_date_time', 'must be a valid date-time'),
      ],
      [
        'an unknown property',
        { start_at: past, end_at: past, since: '24h' },
        [{ field: 'since', rule: 'unknown_property', reason: 'is not a known property', source: 'body' }],
      ],
      [
        'start equal to end after truncation, and end in the future',
        { start_at: iso(nowMs + 2 * HOUR_MS), end_at: iso(nowMs + 2 * HOUR_MS + 999) },
        bodyError('end_at', 'invalid', 'must be after start_at'),
      ],
      [
        'end in the future, and start outside retention',
        { start_at: iso(nowMs - 8 * DAY_MS), end_at: iso(nowMs + 61 * SECOND_MS) },
        bodyError('end_at', 'invalid', 'must not be in the future'),
      ],
      [
        'start outside retention',
        { start_at: iso(nowMs - 7 * DAY_MS - SECOND_MS), end_at: past },
        bodyError('start_at', 'invalid', 'must be within the retention period (7d)'),
      ],
    ]
    for (const [name, body, invalid] of cases) {
      const response = await mutate('/v2/audit-log-replay-job', 'PUT', body)
      expect({ name, ...(await problemOf(response)) }).toEqual({
        name,
        status: 400,
        detail: expect.any(String),
        invalid,
      })
    }
    expect((await job()).status).not.toBe('accepted')
  })

  it('allows end_at up to 60 s ahead and start_at exactly at the retention limit; then needs an enabled webhook', async () => {
    const limits = { start_at: iso(clock.nowMs - 7 * DAY_MS), end_at: iso(clock.nowMs + 60 * SECOND_MS) }
    const unconfigured = await mutate('/v3/audit-log-replay-job', 'PUT', limits)
    expect(await problemOf(unconfigured)).toEqual({
      status: 409,
      detail: 'The audit log webhook is not configured or not enabled',
      invalid: undefined,
    })
    await configure({ enabled: false })
    const disabled = await mutate('/v2/audit-log-replay-job', 'PUT', limits)
    expect(disabled.status).toBe(409)
    expect(await jsonOf(disabled)).toMatchObject({
      title: 'Resource Conflict',
      detail: expect.stringMatching(/^The audit/),
    })
    await configure()
    const accepted = await mutate('/v2/audit-log-replay-job', 'PUT', limits)
    expect(accepted.status).toBe(202)
    expect(await jsonOf(accepted)).toMatchObject({
      start_at: isoSeconds(clock.nowMs - 7 * DAY_MS),
      end_at: isoSeconds(clock.nowMs + 60 * SECOND_MS),
      status: 'accepted',
    })
    startWorker()
    await settle()
  })
})

describe('one job at a time (SPEC.md §5.6, §7)', () => {
  const runningConflict = {
    status: 409,
    title: 'Resource Conflict',
    detail: 'A replay job is currently running',
  }

  it('answers 409 while the job is accepted, pending or running, and accepts a new one once it ended', async () => {
    receiver.script(answer(500))
    await configure()
    const { startMs, endMs } = pastWindow()
    await ingestAt([startMs])
    await startJob(startMs, endMs)
    const another = () => putJob(isoSeconds(startMs - HOUR_MS), isoSeconds(endMs))

    expect((await job()).status).toBe('accepted')
    const whileAccepted = await another()
    expect(await jsonOf(whileAccepted)).toMatchObject(runningConflict)

    const stored = await server.store.getReplayJob(orgId)
    await server.store.queueReplayJob(orgId, stored?.id ?? '', clock.nowMs)
    expect((await job()).status).toBe('pending')
    expect((await another()).status).toBe(409)

    startWorker()
    await settle()
    expect((await job()).status).toBe('running')
    expect((await another()).status).toBe(409)

    clock.nowMs += SECOND_MS
    await settle()
    expect(await job()).toMatchObject({ status: 'completed', progress: { total: 1, sent: 1 } })
    const replaced = await another()
    expect(replaced.status).toBe(202)
    expect(await jsonOf(replaced)).toMatchObject({
      start_at: isoSeconds(startMs - HOUR_MS),
      status: 'accepted',
      progress: { total: 0, sent: 0 },
      error: null,
    })
  })

  it('lets an auditor read the job but not start one', async () => {
    const created = await mutate('/v1/tokens', 'POST', { name: 'replay-auditor', role: 'auditor' })
    const auditor = (await jsonOf(created)).token
    expect((await job('v3', auditor)).status).toBeDefined()
    const { startMs, endMs } = pastWindow()
    const refused = await server.request('/v2/audit-log-replay-job', {
      method: 'PUT',
      token: auditor,
      ...jsonBody({ start_at: iso(startMs), end_at: iso(endMs) }),
    })
    expect(refused.status).toBe(403)
    await refused.arrayBuffer()
  })
})

describe('failures (SPEC.md §7)', () => {
  it('fails at once on a non-retryable answer, naming the batch', async () => {
    receiver.script(ok, answer(401))
    await configure()
    const { startMs, endMs } = pastWindow()
    await ingestAt(Array.from({ length: 1500 }, (_, index) => startMs + index * SECOND_MS))
    await startJob(startMs, endMs)
    startWorker()
    await settle()
    expect(await job()).toMatchObject({
      status: 'failed',
      progress: { total: 1500, sent: 1000 },
      error: 'batch 2: HTTP 401 Unauthorized',
    })
    expect(replayed()).toHaveLength(2)
    expect(warnings.at(-1)).toBe('replay job failed')
  })

  it('retries quickly 4 times on the injected clock, then fails; it never probes', async () => {
    receiver.answerWith(answer(500))
    await replayPastWindow('both ends')
    await settle()
    for (const delayMs of [1, 2, 4, 8].map((seconds) => seconds * SECOND_MS)) {
      expect(await job()).toMatchObject({ status: 'running', error: null })
      const attempts = replayed().length
      clock.nowMs += delayMs - 1
      await settle()
      expect(replayed()).toHaveLength(attempts)
      clock.nowMs += 1
      await settle()
      expect(replayed()).toHaveLength(attempts + 1)
    }
    expect(await job()).toMatchObject({
      status: 'failed',
      progress: { total: 2, sent: 0 },
      error: 'batch 1: HTTP 500 Internal Server Error (after 4 retries)',
    })
    clock.nowMs += 10 * 60 * SECOND_MS
    await settle()
    expect(replayed()).toHaveLength(5)
  })

  it('fails on a stall past the attempt timeout once retries run out', async () => {
    receiver.answerWith({ kind: 'hang' })
    await replayPastWindow('start')
    for (let round = 0; round < 6; round++) {
      await settle()
      clock.nowMs += 30 * SECOND_MS
    }
    expect(await job()).toMatchObject({
      status: 'failed',
      error: `batch 1: timeout after ${ATTEMPT_TIMEOUT_MS / 1000}s (after 4 retries)`,
    })
  })

  it.each([
    ['disabled', () => mutate('/v2/audit-log-webhook', 'PATCH', { enabled: false })],
    ['unconfigured', () => mutate('/v3/audit-log-webhook', 'DELETE')],
  ])('fails when the webhook is %s mid-job, sending nothing more', async (state, change) => {
    receiver.script(answer(503))
    await replayPastWindow('both ends')
    await settle()
    expect((await job()).status).toBe('running')
    await change()
    await settle()
    expect(await job()).toMatchObject({ status: 'failed', error: `the webhook was ${state} during the replay` })
    clock.nowMs += 60 * SECOND_MS
    await settle()
    expect(replayed()).toHaveLength(1)
  })

  it('fails when retention prunes selected events before they were sent', async () => {
    receiver.script(answer(500))
    await replayPastWindow('both ends')
    await settle()
    expect((await job()).status).toBe('running')
    clock.nowMs += 8 * DAY_MS
    expect((await server.pruning.run()).deletedEvents).toBeGreaterThan(0)
    await settle()
    expect(await job()).toMatchObject({
      status: 'failed',
      progress: { total: 2, sent: 0 },
      error: '2 selected events were pruned by retention before being sent',
    })
    expect(replayed()).toHaveLength(1)
  })
})

describe('alongside live delivery (SPEC.md §7)', () => {
  it('never moves the live cursor; live delivery still sends everything after it', async () => {
    await configure()
    const cursorBefore = (await server.store.getWebhook(orgId))?.delivery
    const { startMs, endMs } = pastWindow()
    await ingestAt([startMs, endMs])
    await startJob(startMs, endMs)
    startWorker()
    await settle()
    expect((await job()).status).toBe('completed')
    expect((await server.store.getWebhook(orgId))?.delivery).toEqual(cursorBefore)

    const live = new DeliveryWorker(testLoopOptions(server, clock, log, ATTEMPT_TIMEOUT_MS))
    live.start()
    try {
      clock.nowMs += SECOND_MS
      await live.settle()
    } finally {
      await live.stop()
    }
    const liveRequests = receiver.requests.filter((request) => request.headers['konnect-audit-delivery'] === 'live')
    const firstLive = String(liveRequests[0]?.headers['konnect-audit-sequence-range']).split('-')[0]
    expect(Number(firstLive)).toBe((cursorBefore?.deliveredSequence ?? 0) + 1)
    const delivered = (await server.store.getWebhook(orgId))?.delivery.deliveredSequence
    expect(delivered).toBe(await server.store.headSequence(orgId))
  })
})

describe('stopping and resuming (SPEC.md §7, at least once)', () => {
  it('keeps a running job across a worker stop and resumes it from its own cursor', async () => {
    receiver.script(ok, { kind: 'hang' })
    await configure()
    const { startMs, endMs } = pastWindow()
    const sequences = await ingestAt(Array.from({ length: 1100 }, (_, index) => startMs + index * SECOND_MS))
    await startJob(startMs, endMs)
    const first = startWorker({ attemptTimeoutMs: 60_000 })
    const settling = first.settle()
    await receiver.request(1)
    await first.stop()
    await settling
    expect(await job()).toMatchObject({ status: 'running', progress: { total: 1100, sent: 1000 } })

    startWorker()
    await settle()
    expect(await job()).toMatchObject({ status: 'completed', progress: { total: 1100, sent: 1100 } })
    const stored = await storedBySequence(sequences)
    expect(acknowledgedLines()).toEqual(stored.map((event) => event.line.toString('utf8')))
    expect(replayed().map((request: ReceivedRequest) => request.lines.length)).toEqual([1000, 100, 100])
  })

  it('leaves a job alone while another replica holds its lease, and runs it once the lease lapses', async () => {
    await configure()
    const { startMs, endMs } = pastWindow()
    await ingestAt([startMs + SECOND_MS])
    const lease = { orgId, work: 'replay', holder: 'other-replica', leaseMs: TEST_LEASE.leaseMs } as const
    expect(await server.store.claimLease({ ...lease, nowMs: clock.nowMs })).toBe(true)
    await startJob(startMs, endMs)
    startWorker()
    await settle()
    expect(await job()).toMatchObject({ status: 'accepted' })
    expect(replayed()).toHaveLength(0)

    clock.nowMs += TEST_LEASE.leaseMs
    await settle()
    expect(await job()).toMatchObject({ status: 'completed', progress: { total: 1, sent: 1 } })
  })
})

describe('the server runs the worker (DESIGN.md §1)', () => {
  it('starts a job as soon as it is accepted and completes it', async () => {
    const ownClock = { nowMs: Date.now(), now: () => ownClock.nowMs }
    const own = await startTestServer({ allowInsecureEndpoints: true }, ownClock)
    try {
      await own.delivery.stop()
      const configured = await own.request('/v2/audit-log-webhook', {
        method: 'PATCH',
        ...jsonBody({ endpoint: receiver.url, enabled: true, log_format: 'json' }),
      })
      expect(configured.status).toBe(200)
      await configured.arrayBuffer()
      const put = await own.request('/v3/audit-log-replay-job', {
        method: 'PUT',
        ...jsonBody({ start_at: iso(ownClock.nowMs - HOUR_MS), end_at: iso(ownClock.nowMs) }),
      })
      expect(put.status).toBe(202)
      await put.arrayBuffer()
      await own.replay.settle()
      const body = await jsonOf(await own.request('/v2/audit-log-replay-job'))
      expect(body).toMatchObject({ status: 'completed', error: null })
      expect(body.progress.sent).toBe(body.progress.total)
      expect(body.progress.total).toBeGreaterThan(0)
      expect(replayed()[0]?.headers['konnect-audit-org-id']).toBe(own.services.defaultOrgId)
    } finally {
      await own.close()
    }
  })
})
