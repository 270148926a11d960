// Tests the webhook routes over loopback HTTP (SPEC.md §5.5, §5.8): views, PATCH rules per mode,
// the cursor set at first configuration, status and lag, permissions, and that nothing is stored
// on a 4xx. Endpoints are IP literals or `.invalid` hosts; nothing connects anywhere.

import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { newOrg } from '../../src/server/bootstrap.js'
import { SQLITE_FILE } from '../../src/server/data-dir.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { storedEvents } from '../helpers/stored-events.js'
import { testClock } from '../helpers/test-clock.js'
import { UNCONFIGURED_WEBHOOK_BODY } from '../helpers/unconfigured-webhook.js'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const clock = testClock(T0)
const SECRET = 'Splunk 6c1e0f5a-secret-value'
const ENDPOINT = 'https://203.0.113.10/konnect'

let server: TestServer
let orgId: string
let auditorToken: string

beforeAll(async () => {
  server = await startTestServer({}, clock)
  // These tests only configure webhooks: no delivery may leave for their documentation addresses.
  await server.delivery.stop()
  orgId = server.services.defaultOrgId
  const created = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'aud', role: 'auditor' }) })
  auditorToken = (await jsonOf(created)).token
})
afterAll(() => server.close())
beforeEach(async () => {
  clock.nowMs += 60_000
  expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
})

const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''
const iso = (ms: number) => new Date(ms).toISOString()

const patchV2 = (body: unknown, token?: string) =>
  server.request('/v2/audit-log-webhook', { method: 'PATCH', ...jsonBody(body), ...(token ? { token } : {}) })
const patchV3 = (body: unknown) => server.request('/v3/audit-log-webhook', { method: 'PATCH', ...jsonBody(body) })
const getV2 = async () => jsonOf(await server.request('/v2/audit-log-webhook'))
const getStatus = async () => jsonOf(await server.request('/v2/audit-log-webhook/status'))

async function configure(body: Record<string, unknown> = {}) {
  const response = await patchV2({ endpoint: ENDPOINT, ...body })
  expect(response.status).toBe(200)
  return jsonOf(response)
}

async function createDestination(fields: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const response = await server.request('/v3/audit-log-destinations', {
    method: 'POST',
    ...jsonBody({
      name: `dest-${Math.random()}`,
      endpoint: 'https://198.51.100.7/in',
      log_format: 'json',
      authorization: 'Bearer destination-secret',
      ...fields,
    }),
  })
  expect(response.status).toBe(201)
  return jsonOf(response)
}

/** The sequence of the stored event of this request with this `name` (Authz.*, Ingress, …). */
async function sequenceOf(traceId: string, name: string): Promise<number> {
  const events = await server.store.readEvents({
    orgId,
    afterSequence: 0,
    throughSequence: Number.MAX_SAFE_INTEGER,
    limit: 100_000,
  })
  const found = events.find((event) => {
    const line = event.line.toString('utf8')
    return line.includes(`"trace_id":${traceId},`) && line.includes(`"name":"${name}"`)
  })
  if (found === undefined) throw new Error(`no ${name} event for trace ${traceId}`)
  return found.sequence
}

/** The access event is written after the response; wait for it without sleeping on a clock. */
async function accessEventStored(traceId: string): Promise<void> {
  for (let turn = 0; turn < 1000; turn++) {
    if ((await storedEvents(server.store, orgId)).some((event) => event.traceId === traceId && event.fields.act)) {
      return
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`the access event of ${traceId} was never stored`)
}

/** What the delivery engine will write; set directly, as no API can. */
function setDeliveryState(columns: Record<string, number | string | null>): void {
  const db = new Database(join(server.dataDir, SQLITE_FILE))
  try {
    const assignments = Object.keys(columns)
      .map((column) => `${column} = @${column}`)
      .join(', ')
    db.prepare(`UPDATE webhooks SET ${assignments} WHERE org_id = @orgId`).run({ ...columns, orgId })
  } finally {
    db.close()
  }
}

const FAILING = {
  webhook_status: 'inactive',
  consecutive_failures: 7,
  last_attempt_at: T0 + 1_002,
  last_response_code: 503,
  last_response_message: 'Service Unavailable',
  last_success_at: T0 + 554,
  next_attempt_at: T0 + 61_000,
}

describe('an unconfigured webhook', () => {
  it('GET /v2 answers exactly the unconfigured body', async () => {
    const response = await server.request('/v2/audit-log-webhook')
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })

  it('GET /v3 answers 404', async () => {
    const response = await server.request('/v3/audit-log-webhook')
    expect(response.status).toBe(404)
    expect(await jsonOf(response)).toMatchObject({ status: 404, title: 'Not Found' })
  })

  it('status is unconfigured with no lag, under /v2 and /v3', async () => {
    const expected = {
      webhook_enabled: false,
      webhook_status: 'unconfigured',
      next_attempt_at: null,
      consecutive_failures: 0,
      delivered_sequence: 0,
      head_sequence: expect.any(Number),
      lag_events: 0,
      lag_seconds: 0,
      undelivered_pruned: 0,
    }
    const v2 = await getStatus()
    expect(v2).toEqual(expected)
    expect(v2.head_sequence).toBeGreaterThan(0)
    expect(await jsonOf(await server.request('/v3/audit-log-webhook/status'))).toEqual(expected)
  })

  it.each([[{}], [{ enabled: false }]])('PATCH %j changes nothing and answers the unconfigured body', async (body) => {
    const response = await patchV2(body)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
    expect((await getStatus()).webhook_status).toBe('unconfigured')
  })

  it.each([
    [{ enabled: true }],
    [{ log_format: 'json' }],
    [{ authorization: SECRET }],
    [{ authorization: null }],
    [{ skip_ssl_verification: false }],
    [{ enabled: false, log_format: 'cef' }],
  ])('PATCH %j without endpoint is a 400 on endpoint', async (body) => {
    const response = await patchV2(body)
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters).toEqual([
      { field: 'endpoint', rule: 'required', reason: 'cannot be blank', source: 'body' },
    ])
    expect(await (await server.request('/v2/audit-log-webhook')).text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })
})

describe('first configuration (SPEC.md §5.5, §6.4)', () => {
  it('applies the defaults, keeps enabled false unless given, and never echoes the authorization', async () => {
    const response = await patchV2({ endpoint: ENDPOINT, authorization: SECRET })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({
      endpoint: ENDPOINT,
      enabled: false,
      log_format: 'cef',
      skip_ssl_verification: false,
      updated_at: iso(clock.nowMs),
      authorization_configured: true,
    })
    expect(text).not.toContain(SECRET)
    expect(await getV2()).toEqual(JSON.parse(text))
  })

  it('sets the delivery cursor to the head at that moment, which later changes keep', async () => {
    const response = await patchV2({ endpoint: ENDPOINT, enabled: true })
    expect(response.status).toBe(200)
    // The PATCH's own authorization event was the head when its handler ran.
    const head = await sequenceOf(traceOf(response), 'Authz.audit-log-webhook')
    const status = await getStatus()
    expect(status).toMatchObject({ webhook_enabled: true, webhook_status: 'active', delivered_sequence: head })
    expect(status.lag_events).toBe(status.head_sequence - head)
    expect(status).not.toHaveProperty('last_attempt_at')

    await configure({ endpoint: 'https://203.0.113.99/moved', log_format: 'json' })
    expect((await getStatus()).delivered_sequence).toBe(head)
  })

  it('reports lag_seconds since the commit of the oldest undelivered event', async () => {
    const response = await patchV2({ endpoint: ENDPOINT, enabled: true })
    await accessEventStored(traceOf(response))
    const configuredAt = clock.nowMs
    clock.nowMs += 90_500
    const status = await getStatus()
    expect(status.lag_seconds).toBe(90)
    const [oldest] = await server.store.readEvents({
      orgId,
      afterSequence: status.delivered_sequence,
      throughSequence: status.head_sequence,
      limit: 1,
    })
    expect(oldest?.rt).toBe(configuredAt)
  })

  it('starts again at the new head after DELETE /v3 discarded the delivery state', async () => {
    await configure({ enabled: true })
    const first = (await getStatus()).delivered_sequence
    expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
    const response = await patchV2({ endpoint: ENDPOINT })
    const head = await sequenceOf(traceOf(response), 'Authz.audit-log-webhook')
    expect(head).toBeGreaterThan(first)
    expect((await getStatus()).delivered_sequence).toBe(head)
  })

  it('accepts a host that does not resolve: DNS failure at configuration time is not an error', async () => {
    expect((await configure({ endpoint: 'https://siem.invalid/konnect' })).endpoint).toBe(
      'https://siem.invalid/konnect',
    )
  })
})

describe('PATCH /v2 in inline mode', () => {
  it('changes only the given fields and bumps updated_at', async () => {
    await configure({ authorization: SECRET, log_format: 'json', skip_ssl_verification: true, enabled: true })
    clock.nowMs += 5_000
    expect(await jsonOf(await patchV2({ log_format: 'cps' }))).toMatchObject({ log_format: 'cps' })
    const response = await patchV2({ log_format: 'cef' })
    expect(await jsonOf(response)).toEqual({
      endpoint: ENDPOINT,
      enabled: true,
      log_format: 'cef',
      skip_ssl_verification: true,
      updated_at: iso(clock.nowMs),
      authorization_configured: true,
    })
  })

  it('removes the authorization with null and toggles enabled alone', async () => {
    await configure({ authorization: SECRET, enabled: true })
    expect(await jsonOf(await patchV2({ authorization: null }))).toMatchObject({ authorization_configured: false })
    expect(await jsonOf(await patchV2({ enabled: false }))).toMatchObject({ enabled: false, endpoint: ENDPOINT })
    expect(await jsonOf(await patchV2({ enabled: true }))).toMatchObject({ enabled: true })
  })

  it('answers {} with the current body without touching updated_at', async () => {
    const configured = await configure()
    clock.nowMs += 1_000
    expect(await jsonOf(await patchV2({}))).toEqual(configured)
  })

  it('accepts http and private addresses only with --allow-insecure-endpoints, never metadata', async () => {
    const insecure = await startTestServer({ allowInsecureEndpoints: true })
    await insecure.delivery.stop()
    try {
      const patch = (endpoint: string) =>
        insecure.request('/v2/audit-log-webhook', { method: 'PATCH', ...jsonBody({ endpoint }) })
      expect((await patch('http://127.0.0.1:9/hook')).status).toBe(200)
      const metadata = await patch('http://169.254.169.254/latest')
      expect(metadata.status).toBe(400)
      expect((await jsonOf(metadata)).invalid_parameters[0].reason).toBe('address 169.254.169.254 is not allowed')
    } finally {
      await insecure.close()
    }
  })
})

describe('a bad PATCH stores nothing (SPEC.md §5.1)', () => {
  const longEndpoint = `https://siem.invalid/${'a'.repeat(2048)}`
  const json = (body: string): RequestInit => ({ body, headers: { 'content-type': 'application/json' } })

  it.each([
    ['a non-URL', { endpoint: 'not a url' }, 'endpoint', 'invalid', 'must be a valid URL'],
    ['http', { endpoint: 'http://203.0.113.10/x' }, 'endpoint', 'invalid', 'must use https'],
    ['credentials', { endpoint: 'https://u:p@203.0.113.10/x' }, 'endpoint', 'invalid', 'must not contain credentials'],
    ['loopback', { endpoint: 'https://127.0.0.1/x' }, 'endpoint', 'invalid', 'address 127.0.0.1 is not allowed'],
    ['IPv6 loopback', { endpoint: 'https://[::1]/x' }, 'endpoint', 'invalid', 'address ::1 is not allowed'],
    ['private', { endpoint: 'https://10.1.2.3/x' }, 'endpoint', 'invalid', 'address 10.1.2.3 is not allowed'],
    [
      'IPv4-mapped private',
      { endpoint: 'https://[::ffff:10.0.0.1]/x' },
      'endpoint',
      'invalid',
      'address ::ffff:10.0.0.1 is not allowed',
    ],
    [
      'metadata',
      { endpoint: 'https://169.254.169.254/x' },
      'endpoint',
      'invalid',
      'address 169.254.169.254 is not allowed',
    ],
    ['a blank endpoint', { endpoint: ' ' }, 'endpoint', 'required', 'cannot be blank'],
    ['a long endpoint', { endpoint: longEndpoint }, 'endpoint', 'max_length', 'must be at most 2048 bytes'],
    ['an empty authorization', { authorization: '' }, 'authorization', 'required', 'cannot be blank'],
    ['a blank authorization', { authorization: ' \t ' }, 'authorization', 'required', 'cannot be blank'],
    [
      'a non-ASCII authorization',
      { authorization: 'Bearer é' },
      'authorization',
      'invalid',
      'must contain only printable ASCII characters, spaces and tabs',
    ],
    [
      'a newline in the authorization',
      { authorization: 'Bearer a\r\nX-Evil: 1' },
      'authorization',
      'invalid',
      'must contain only printable ASCII characters, spaces and tabs',
    ],
    [
      'a long authorization',
      { authorization: 'x'.repeat(4097) },
      'authorization',
      'max_length',
      'must be at most 4096 bytes',
    ],
    ['an unknown log_format', { log_format: 'xml' }, 'log_format', 'enum', 'must be one of: cef, json, cps'],
    ['a string enabled', { enabled: 'yes' }, 'enabled', 'is_boolean', 'must be of type boolean'],
    ['a numeric TLS flag', { skip_ssl_verification: 1 }, 'skip_ssl_verification', 'is_boolean', undefined],
    ['a numeric authorization', { authorization: 5 }, 'authorization', 'type', undefined],
    ['an unknown property', { endpoint: ENDPOINT, color: 'red' }, 'color', 'unknown_property', undefined],
  ])('%s', async (_, body, field, rule, reason) => {
    await configure({ authorization: SECRET, log_format: 'json', enabled: true })
    setDeliveryState(FAILING)
    const before = { config: await getV2(), status: await getStatus() }
    const response = await patchV2(body)
    expect(response.status).toBe(400)
    const [problem] = (await jsonOf(response)).invalid_parameters
    expect(problem).toMatchObject({ field, rule, source: 'body', ...(reason ? { reason } : {}) })
    expect(await getV2()).toEqual(before.config)
    const { head_sequence: _head, lag_events: _lag, ...delivery } = await getStatus()
    expect(before.status).toMatchObject(delivery)
  })

  it.each([
    ['a duplicate key', 400, json('{"endpoint":"https://203.0.113.10/a","endpoint":"https://203.0.113.10/b"}')],
    ['malformed JSON', 400, json('{"endpoint":')],
    ['a non-object body', 400, json('"https://203.0.113.10/a"')],
    ['a wrong content type', 415, { body: 'endpoint=x', headers: { 'content-type': 'text/plain' } }],
    ['an oversized body', 413, jsonBody({ endpoint: ENDPOINT, authorization: 'x'.repeat(70_000) })],
  ])('%s', async (_, status, init) => {
    const configured = await configure({ authorization: SECRET })
    const response = await server.request('/v2/audit-log-webhook', { method: 'PATCH', ...init })
    expect(response.status).toBe(status)
    expect(await getV2()).toEqual(configured)
  })

  it('reports every bad field at once', async () => {
    const response = await patchV2({ endpoint: 'http://x.invalid', authorization: '' })
    expect((await jsonOf(response)).invalid_parameters.map((p: { field: string }) => p.field)).toEqual([
      'endpoint',
      'authorization',
    ])
    expect(await (await server.request('/v2/audit-log-webhook')).text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })
})

describe('destination mode (SPEC.md §5.5, §5.8)', () => {
  it('PATCH /v3 references a destination; both GETs show it and the cursor starts at the head', async () => {
    const destination = await createDestination({ skip_ssl_verification: true })
    const response = await patchV3({ audit_log_destination_id: destination.id, enabled: true })
    expect(response.status).toBe(200)
    expect(await jsonOf(response)).toEqual({ audit_log_destination_id: destination.id, enabled: true })
    expect(await jsonOf(await server.request('/v3/audit-log-webhook'))).toEqual({
      audit_log_destination_id: destination.id,
      enabled: true,
    })
    expect(await getV2()).toEqual({
      endpoint: 'https://198.51.100.7/in',
      enabled: true,
      log_format: 'json',
      skip_ssl_verification: true,
      updated_at: iso(clock.nowMs),
      authorization_configured: true,
      audit_log_destination_id: destination.id,
    })
    const head = await sequenceOf(traceOf(response), 'Authz.audit-log-webhook')
    expect((await getStatus()).delivered_sequence).toBe(head)
  })

  it('keeps enabled false when the first PATCH /v3 does not set it, and accepts an upper-case id', async () => {
    const destination = await createDestination()
    const response = await patchV3({ audit_log_destination_id: destination.id.toUpperCase() })
    expect(await jsonOf(response)).toEqual({ audit_log_destination_id: destination.id, enabled: false })
  })

  it('refuses v2 changes the destination owns, storing nothing', async () => {
    const destination = await createDestination()
    await patchV3({ audit_log_destination_id: destination.id, enabled: true })
    const before = await getV2()
    const response = await patchV2({ log_format: 'cef', authorization: null })
    expect(response.status).toBe(400)
    const problems = (await jsonOf(response)).invalid_parameters
    expect(problems.map((p: { field: string }) => p.field)).toEqual(['authorization', 'log_format'])
    expect(problems[0].reason).toContain('update the destination instead')
    expect(problems[0].reason).toContain(`/v3/audit-log-destinations/${destination.id}`)
    expect(await getV2()).toEqual(before)
  })

  it('lets v2 toggle enabled in destination mode', async () => {
    const destination = await createDestination()
    await patchV3({ audit_log_destination_id: destination.id, enabled: true })
    expect(await jsonOf(await patchV2({ enabled: false }))).toMatchObject({
      enabled: false,
      audit_log_destination_id: destination.id,
    })
  })

  it('switches to inline mode on a v2 endpoint, with defaults for the fields not given', async () => {
    const destination = await createDestination({ log_format: 'cps', skip_ssl_verification: true })
    await patchV3({ audit_log_destination_id: destination.id, enabled: true })
    const cursor = (await getStatus()).delivered_sequence
    expect(await configure({ endpoint: 'https://203.0.113.20/own' })).toEqual({
      endpoint: 'https://203.0.113.20/own',
      enabled: true,
      log_format: 'cef',
      skip_ssl_verification: false,
      updated_at: iso(clock.nowMs),
      authorization_configured: false,
    })
    expect((await server.request('/v3/audit-log-webhook')).status).toBe(404)
    expect((await getStatus()).delivered_sequence).toBe(cursor)
  })

  it('discards the inline settings, authorization included, when a destination is chosen', async () => {
    await configure({ authorization: SECRET, log_format: 'cps', enabled: true })
    const destination = await createDestination()
    await patchV3({ audit_log_destination_id: destination.id })
    await patchV2({ endpoint: ENDPOINT })
    expect(await getV2()).toMatchObject({ log_format: 'cef', authorization_configured: false, enabled: true })
  })

  it('toggles enabled alone through v3 in inline mode, answering without an id', async () => {
    await configure({ enabled: true })
    const response = await patchV3({ enabled: false })
    expect(await jsonOf(response)).toEqual({ enabled: false })
    expect(await getV2()).toMatchObject({ enabled: false, endpoint: ENDPOINT })
  })

  it.each([
    [{ audit_log_destination_id: 'not-a-uuid' }, 'is_uuid', 'destination id format is invalid'],
    [{ audit_log_destination_id: '00000000-0000-4000-8000-000000000000' }, 'missing_reference', undefined],
    [{ enabled: true }, 'required', 'cannot be blank'],
  ])('PATCH /v3 %j while unconfigured is a 400 on audit_log_destination_id', async (body, rule, reason) => {
    const response = await patchV3(body)
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters).toEqual([
      expect.objectContaining({ field: 'audit_log_destination_id', rule, ...(reason ? { reason } : {}) }),
    ])
    expect(await (await server.request('/v2/audit-log-webhook')).text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })

  it('PATCH /v3 {"enabled":false} while unconfigured changes nothing', async () => {
    const response = await patchV3({ enabled: false })
    expect(response.status).toBe(200)
    expect(await jsonOf(response)).toEqual({ enabled: false })
    expect(await (await server.request('/v2/audit-log-webhook')).text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })

  it("refuses an unknown id or another org's destination while configured, storing nothing", async () => {
    const other = newOrg('other-for-reference', 'admin', clock.now())
    await server.store.createOrg(other.init)
    const foreign = await server.request('/v3/audit-log-destinations', {
      method: 'POST',
      token: other.secret,
      ...jsonBody({ name: 'theirs', endpoint: ENDPOINT, log_format: 'cef', authorization: 'x' }),
    })
    const foreignId = (await jsonOf(foreign)).id
    const configured = await configure({ enabled: true })
    const response = await patchV3({ audit_log_destination_id: foreignId, enabled: false })
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters[0]).toMatchObject({ rule: 'missing_reference' })
    expect(await getV2()).toEqual(configured)
  })

  it('DELETE /v3 unconfigures, keeps the destination, and is idempotent', async () => {
    const destination = await createDestination()
    await patchV3({ audit_log_destination_id: destination.id, enabled: true })
    expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
    expect(await (await server.request('/v2/audit-log-webhook')).text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
    expect((await getStatus()).webhook_status).toBe('unconfigured')
    expect((await server.request(`/v3/audit-log-destinations/${destination.id}`)).status).toBe(200)
    expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  })
})

describe('status and delivery state (SPEC.md §5.5, §6.2)', () => {
  it('shows the last attempt, the scheduled attempt and failures once recorded', async () => {
    await configure({ enabled: true })
    setDeliveryState({ ...FAILING, undelivered_pruned: 3 })
    expect(await getStatus()).toMatchObject({
      webhook_enabled: true,
      webhook_status: 'inactive',
      last_attempt_at: iso(T0 + 1_002),
      last_response_code: 503,
      last_response_message: 'Service Unavailable',
      last_success_at: iso(T0 + 554),
      next_attempt_at: iso(T0 + 61_000),
      consecutive_failures: 7,
      undelivered_pruned: 3,
    })
  })

  it('writes "never" for a success that has not happened after an attempt', async () => {
    await configure({ enabled: true })
    setDeliveryState({ ...FAILING, last_success_at: null })
    expect((await getStatus()).last_success_at).toBe('0001-01-01T00:00:00Z')
  })

  it('keeps the outcome while paused and resets it on a configuration change', async () => {
    await configure({ enabled: true })
    setDeliveryState(FAILING)
    await patchV2({ enabled: false })
    expect(await getStatus()).toMatchObject({
      webhook_enabled: false,
      webhook_status: 'inactive',
      consecutive_failures: 7,
    })
    await patchV2({ authorization: 'Bearer rotated' })
    expect(await getStatus()).toMatchObject({
      webhook_enabled: false,
      webhook_status: 'active',
      consecutive_failures: 0,
      next_attempt_at: null,
      last_response_code: 503,
    })
  })

  it('resets on a switch to a destination', async () => {
    await configure({ enabled: true })
    setDeliveryState(FAILING)
    await patchV3({ audit_log_destination_id: (await createDestination()).id })
    expect(await getStatus()).toMatchObject({ webhook_status: 'active', consecutive_failures: 0 })
  })

  it('resets when the referenced destination changes what is sent, not when it is renamed', async () => {
    const destination = await createDestination()
    await patchV3({ audit_log_destination_id: destination.id, enabled: true })
    setDeliveryState(FAILING)
    const patchDestination = (body: unknown) =>
      server.request(`/v3/audit-log-destinations/${destination.id}`, { method: 'PATCH', ...jsonBody(body) })
    expect((await patchDestination({ name: `renamed-${destination.id}` })).status).toBe(200)
    expect(await getStatus()).toMatchObject({ webhook_status: 'inactive', consecutive_failures: 7 })
    clock.nowMs += 1_000
    expect((await patchDestination({ log_format: 'cef' })).status).toBe(200)
    expect(await getStatus()).toMatchObject({ webhook_status: 'active', consecutive_failures: 0 })
    expect(await getV2()).toMatchObject({ log_format: 'cef', updated_at: iso(clock.nowMs) })
  })
})

describe('permissions (SPEC.md §5.2)', () => {
  it('lets an auditor read the status but not the configuration, with the decisions stored', async () => {
    for (const path of ['/v2/audit-log-webhook/status', '/v3/audit-log-webhook/status']) {
      expect((await server.request(path, { token: auditorToken })).status).toBe(200)
    }
    const denied = await server.request('/v2/audit-log-webhook', { token: auditorToken })
    expect(denied.status).toBe(403)
    const events = (await storedEvents(server.store, orgId)).filter((event) => event.traceId === traceOf(denied))
    expect(events[1]?.fields).toMatchObject({ name: 'Authz.audit-log-webhook', action: 'retrieve', granted: false })
  })

  it.each([
    ['PATCH', '/v2/audit-log-webhook', 'edit'],
    ['GET', '/v3/audit-log-webhook', 'retrieve'],
    ['PATCH', '/v3/audit-log-webhook', 'edit'],
    ['DELETE', '/v3/audit-log-webhook', 'delete'],
  ])('refuses an auditor %s %s (%s) with 403, storing nothing', async (method, path, action) => {
    await configure({ enabled: true })
    const before = await getV2()
    const response = await server.request(path, {
      method,
      token: auditorToken,
      ...(method === 'PATCH' ? jsonBody({ enabled: false }) : {}),
    })
    expect(response.status).toBe(403)
    const events = (await storedEvents(server.store, orgId)).filter((event) => event.traceId === traceOf(response))
    expect(events[1]?.fields).toMatchObject({ name: 'Authz.audit-log-webhook', action, granted: false })
    expect(await getV2()).toEqual(before)
  })

  it('answers 401 without a token, for the status too', async () => {
    for (const path of ['/v2/audit-log-webhook', '/v2/audit-log-webhook/status', '/v3/audit-log-webhook/status']) {
      expect((await server.request(path, { token: null })).status).toBe(401)
    }
    expect((await patchV2({ endpoint: ENDPOINT }, `kat_${'A'.repeat(43)}`)).status).toBe(401)
    expect(await (await server.request('/v2/audit-log-webhook')).text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })

  it('keeps each org to its own webhook', async () => {
    await configure({ enabled: true })
    const other = newOrg('other-for-isolation', 'admin', clock.now())
    await server.store.createOrg(other.init)
    const theirs = await server.request('/v2/audit-log-webhook', { token: other.secret })
    expect(await theirs.text()).toBe(UNCONFIGURED_WEBHOOK_BODY)
  })
})

describe('the authorization is write-only', () => {
  it('appears in no response and no stored event', async () => {
    const texts: string[] = []
    const keep = async (response: Response) => {
      texts.push(await response.text())
    }
    await keep(await patchV2({ endpoint: ENDPOINT, authorization: SECRET, enabled: true }))
    await keep(await server.request('/v2/audit-log-webhook'))
    await keep(await server.request('/v2/audit-log-webhook/status'))
    const destinationSecret = `${SECRET}-destination`
    const created = await server.request('/v3/audit-log-destinations', {
      method: 'POST',
      ...jsonBody({
        name: `secret-${clock.nowMs}`,
        endpoint: ENDPOINT,
        log_format: 'cef',
        authorization: destinationSecret,
      }),
    })
    const destination = await jsonOf(created.clone())
    await keep(created)
    await keep(await patchV3({ audit_log_destination_id: destination.id }))
    await keep(await server.request('/v3/audit-log-webhook'))
    await keep(await server.request('/v2/audit-log-webhook'))
    await keep(await server.request(`/v3/audit-log-destinations/${destination.id}`))
    await keep(await server.request('/v3/audit-log-destinations?page%5Bsize%5D=1000'))
    expect(texts).toHaveLength(9)
    for (const text of texts) expect(text).not.toContain('secret-value')
    for (const event of await storedEvents(server.store, orgId)) expect(event.line).not.toContain('secret-value')
  })
})
