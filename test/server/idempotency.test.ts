// Tests Idempotency-Key on POST /v1/audit-events over loopback HTTP (SPEC.md §5.4): a retry
// replays the first response byte for byte with Idempotent-Replayed and stores nothing, another
// request with the key is a 409, concurrent retries store once, keys expire after 24 h, and a
// malformed key is a 400 that stores nothing.

import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { storedEvents } from '../helpers/stored-events.js'
import { testClock } from '../helpers/test-clock.js'

const HOUR_MS = 3_600_000
const clock = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
let server: TestServer
let ingestToken: string

beforeAll(async () => {
  server = await startTestServer({ retention: '1h' }, clock)
  const created = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'gw', role: 'ingest' }) })
  ingestToken = (await jsonOf(created)).token
})
afterAll(() => server.close())

/** An NDJSON body of `count` authorization events marked with `marker` as their principal_id. */
function batch(marker: string, count = 2, eventTs?: string): string {
  const item = {
    type: 'authorization',
    src: '198.51.100.7',
    principal_id: marker,
    event_class_id: 'reports',
    name: 'Authz.reports',
    action: 'list',
    granted: true,
    ...(eventTs ? { event_ts: eventTs } : {}),
  }
  return Array.from({ length: count }, () => `${JSON.stringify(item)}\n`).join('')
}

const post = (body: string | Buffer, key: string | null, headers: Record<string, string> = {}) =>
  server.request('/v1/audit-events', {
    method: 'POST',
    token: ingestToken,
    body,
    headers: {
      'content-type': 'application/x-ndjson',
      ...(key === null ? {} : { 'idempotency-key': key }),
      ...headers,
    },
  })

/** How many ingested events carry the marker. */
async function storedWith(marker: string): Promise<number> {
  const events = await storedEvents(server.store, server.services.defaultOrgId)
  return events.filter((event) => event.fields.principal_id === marker).length
}

describe('Idempotency-Key on POST /v1/audit-events', () => {
  it('replays the first status and body byte for byte with Idempotent-Replayed, storing nothing more', async () => {
    const marker = randomUUID()
    const key = `retry-${marker}`
    const first = await post(batch(marker), key)
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const firstBody = await first.text()

    const retry = await post(batch(marker), key)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(retry.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await retry.text()).toBe(firstBody)
    expect(JSON.parse(firstBody)).toMatchObject({ accepted: 2 })
    expect(await storedWith(marker)).toBe(2)
  })

  it('answers 409 to the key with another body, media type or encoding, storing nothing', async () => {
    const marker = randomUUID()
    const key = `conflict-${marker}`
    const body = batch(marker)
    expect((await post(body, key)).status).toBe(201)
    const others: Array<[string | Buffer, Record<string, string>]> = [
      [batch(marker, 3), {}],
      [body, { 'content-type': 'application/json' }],
      [gzipSync(body), { 'content-encoding': 'gzip' }],
    ]
    for (const [otherBody, headers] of others) {
      const response = await post(otherBody, key, headers)
      expect(response.status).toBe(409)
      expect(await jsonOf(response)).toMatchObject({
        status: 409,
        title: 'Resource Conflict',
        detail: expect.stringContaining('Idempotency-Key was used with a different request body'),
      })
    }
    expect(await storedWith(marker)).toBe(2)
  })

  it('replays the same bytes sent with an equivalent spelling of the same headers', async () => {
    const marker = randomUUID()
    const key = `spelling-${marker}`
    const first = await post(batch(marker), key)
    expect(first.status).toBe(201)
    const headers = { 'content-type': 'Application/X-NDJSON; charset=UTF-8', 'content-encoding': 'identity' }
    const retry = await post(batch(marker), key, headers)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(await storedWith(marker)).toBe(2)
  })

  it('replays a gzip request sent again with the same bytes', async () => {
    const marker = randomUUID()
    const gzipped = gzipSync(batch(marker))
    const first = await post(gzipped, `gzip-${marker}`, { 'content-encoding': 'gzip' })
    const retry = await post(gzipped, `gzip-${marker}`, { 'content-encoding': 'gzip' })
    expect([first.status, retry.status]).toEqual([201, 201])
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(await retry.text()).toBe(await first.text())
    expect(await storedWith(marker)).toBe(2)
  })

  it('stores one batch when concurrent requests bring the same new key', async () => {
    const marker = randomUUID()
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(batch(marker), `race-${marker}`)))
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201])
    const bodies = await Promise.all(responses.map((response) => response.text()))
    expect(new Set(bodies).size).toBe(1)
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === null)).toHaveLength(1)
    expect(await storedWith(marker)).toBe(2)
  })

  it('stores once even when every early check misses: the key is checked again in the commit', async () => {
    const marker = randomUUID()
    const store = server.store as { findIdempotentResponse: typeof server.store.findIdempotentResponse }
    const early = store.findIdempotentResponse
    // As if all requests passed the early check before any of them committed.
    store.findIdempotentResponse = async () => null
    try {
      const responses = await Promise.all(Array.from({ length: 3 }, () => post(batch(marker), `late-${marker}`)))
      expect(responses.map((response) => response.status)).toEqual([201, 201, 201])
      const replayed = responses.map((response) => response.headers.get('idempotent-replayed'))
      expect(replayed.filter((value) => value === 'true')).toHaveLength(2)
      expect(new Set(await Promise.all(responses.map((response) => response.text()))).size).toBe(1)
    } finally {
      store.findIdempotentResponse = early
    }
    expect(await storedWith(marker)).toBe(2)
    const conflicting = await post(batch(marker, 1), `late-${marker}`)
    expect(conflicting.status).toBe(409)
  })

  it('replays a retry whose items have since aged out of the event_ts window', async () => {
    const marker = randomUUID()
    const body = batch(marker, 1, new Date(clock.nowMs - 50 * 60_000).toISOString())
    const first = await post(body, `aged-${marker}`)
    expect(first.status).toBe(201)
    clock.nowMs += 30 * 60_000
    const retry = await post(body, `aged-${marker}`)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect((await post(body, null)).status).toBe(400)
  })

  it('lets an expired key (24 h) be used again for another body', async () => {
    const marker = randomUUID()
    const key = `expiring-${marker}`
    expect((await post(batch(marker), key)).status).toBe(201)
    clock.nowMs += 24 * HOUR_MS - 1
    expect((await post(batch(marker, 3), key)).status).toBe(409)
    clock.nowMs += 1
    const reused = await post(batch(marker, 3), key)
    expect(reused.status).toBe(201)
    expect(reused.headers.get('idempotent-replayed')).toBeNull()
    expect(await storedWith(marker)).toBe(5)
  })

  it('accepts a key of 255 printable ASCII characters, spaces included', async () => {
    const marker = randomUUID()
    const key = `a b~${'x'.repeat(251)}`
    expect((await post(batch(marker), key)).status).toBe(201)
    expect((await post(batch(marker), key)).headers.get('idempotent-replayed')).toBe('true')
  })

  it.each([
    ['empty', '', { rule: 'min_length', minimum: 1 }],
    ['256 characters long', 'k'.repeat(256), { rule: 'max_length', maximum: 255 }],
    ['holding a tab', 'a\tb', { rule: 'matches_regex' }],
    ['holding a non-ASCII character', 'cl\u00e9', { rule: 'matches_regex' }],
  ])('answers 400 to a key %s and stores nothing', async (_, key, parameter) => {
    const marker = randomUUID()
    const response = await post(batch(marker), key)
    expect(response.status).toBe(400)
    expect(await jsonOf(response)).toMatchObject({
      detail: 'Invalid Idempotency-Key header',
      invalid_parameters: [{ field: 'Idempotency-Key', source: 'body', reason: expect.any(String), ...parameter }],
    })
    expect(await storedWith(marker)).toBe(0)
  })
})
