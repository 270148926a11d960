import type { IncomingMessage } from 'node:http'
import { request } from 'node:http'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { LineVerifier } from '../../src/core/verify.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace, storedEvents } from '../helpers/stored-events.js'
import { testClock } from '../helpers/test-clock.js'

let server: TestServer
let ingestToken: string

beforeAll(async () => {
  server = await startTestServer()
  const created = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'gw', role: 'ingest' }) })
  ingestToken = (await jsonOf(created)).token
})
afterAll(() => server.close())

const access = {
  type: 'gateway_access',
  src: '2001:db8::17',
  principal_id: 'a3d2699a-0ed3-4417-bb10-d8e74a1513a4',
  request: '/api/v1/services',
  act: 'POST',
  status: 502,
  query: '{"q":"a=b"}',
  kong_initiated: true,
}
const authz = {
  type: 'authorization',
  src: '::ffff:192.0.2.1',
  principal_id: '',
  event_class_id: 'reports',
  name: 'Authz.reports',
  action: 'list',
  granted: false,
}

const ndjson = (items: unknown[]) => `${items.map((item) => JSON.stringify(item)).join('\n')}\n`
const post = (body: string | Buffer, headers: Record<string, string> = {}, token: string | null = ingestToken) =>
  server.request('/v1/audit-events', {
    method: 'POST',
    token,
    body,
    headers: { 'content-type': 'application/x-ndjson', ...headers },
  })
const head = () => server.store.headSequence(server.services.defaultOrgId)

describe('POST /v1/audit-events', () => {
  it('commits a batch with consecutive sequences, signed lines and shared trace ids per trace_ref', async () => {
    const before = await head()
    const response = await post(ndjson([{ ...access, trace_ref: 'r1' }, { ...authz, trace_ref: 'r1' }, authz]))
    expect(response.status).toBe(201)
    const body = await jsonOf(response)
    expect(body).toMatchObject({ accepted: 3, events: [{ index: 0 }, { index: 1 }, { index: 2 }] })
    expect(body.last_sequence - body.first_sequence).toBe(2)
    expect(body.events[0].trace_id).toBe(body.events[1].trace_id)
    expect(body.events[2].trace_id).not.toBe(body.events[0].trace_id)
    expect(body.events[0].trace_id).toMatch(/^[1-9]\d*$/)
    expect(body.first_sequence).toBeGreaterThan(before)

    const jwks = readJwks(await (await server.request('/v2/audit-log-webhook/jwks.json', { token: null })).text())
    const verifier = new LineVerifier(jwks.keys)
    const stored = (await storedEvents(server.store, server.services.defaultOrgId)).filter((e) =>
      body.events.some((ev: { trace_id: string }) => ev.trace_id === e.traceId),
    )
    const ingested = stored.filter(
      (e) => e.fields.event_class_id !== 'konnect-audit' && e.fields.event_class_id !== 'AUTHENTICATION_TYPE_PAT',
    )
    expect(ingested).toHaveLength(3)
    for (const { line } of ingested) expect(verifier.verify(Buffer.from(line)).status).toBe('valid')
    expect(ingested[0]?.fields).toMatchObject({
      kong_initiated: 'true',
      severity: 10,
      name: 'Ingress',
      src: '2001:db8::17',
    })
    expect(ingested[1]?.fields).toMatchObject({ src: '192.0.2.1', severity: 6, event_class_id: 'reports' })
    expect(ingested[0]?.line).toContain(`"trace_id":${body.events[0].trace_id},`)
  })

  it('accepts a JSON array and gzip', async () => {
    const array = await post(JSON.stringify([authz]), { 'content-type': 'application/json' })
    expect(array.status).toBe(201)
    const gz = await post(gzipSync(ndjson([authz, authz])), { 'content-encoding': 'gzip' })
    expect(gz.status).toBe(201)
    expect((await jsonOf(gz)).accepted).toBe(2)
    // Media types compare without regard to case; UTF-8 may be declared.
    const shouted = await post(ndjson([authz, authz]), { 'content-type': 'Application/X-NDJSON; charset=UTF-8' })
    expect(shouted.status).toBe(201)
    expect((await jsonOf(shouted)).accepted).toBe(2)
  })

  it('lets an ingest token in and keeps an auditor out', async () => {
    const created = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'a', role: 'auditor' }) })
    const auditor = (await jsonOf(created)).token
    expect((await post(ndjson([authz]), {}, auditor)).status).toBe(403)
  })

  it.each([
    [
      'a bare JSON object',
      JSON.stringify(authz),
      { 'content-type': 'application/json' },
      400,
      { field: 'body', rule: 'type' },
    ],
    ['no items', '\n\n', {}, 400, { field: 'body', rule: 'min_items' }],
    ['1001 items', ndjson(Array.from({ length: 1001 }, () => authz)), {}, 400, { field: 'body', rule: 'max_items' }],
    ['an unparsable line', `${JSON.stringify(authz)}\n{"type":\n`, {}, 400, { field: 'items[1]', rule: 'type' }],
    [
      'a duplicate key',
      '{"type":"authorization","type":"authorization"}\n',
      {},
      400,
      { field: 'items[0]', rule: 'type' },
    ],
    [
      'one bad item among good ones',
      ndjson([authz, { ...authz, src: 'nowhere' }, authz]),
      {},
      400,
      { field: 'items[1].src', rule: 'is_ip' },
    ],
    [
      'a server-assigned field',
      ndjson([{ ...authz, trace_id: 1 }]),
      {},
      400,
      { field: 'items[0].trace_id', rule: 'invalid' },
    ],
    ['a wrong content type', ndjson([authz]), { 'content-type': 'text/plain' }, 415, null],
    [
      'a body that is not UTF-8',
      Buffer.from(ndjson([{ ...authz, principal_id: 'u-\u00ff' }]), 'latin1'),
      {},
      400,
      { field: 'body', reason: 'request format is invalid' },
    ],
    [
      'a charset other than UTF-8',
      ndjson([authz]),
      { 'content-type': 'application/x-ndjson; charset=iso-8859-1' },
      415,
      null,
    ],
    ['an unsupported encoding', ndjson([authz]), { 'content-encoding': 'br' }, 415, null],
    [
      'a broken gzip stream',
      gzipSync(ndjson([authz])).subarray(0, 10),
      { 'content-encoding': 'gzip' },
      400,
      { field: 'body' },
    ],
    [
      'a gzip bomb over 5 MiB',
      gzipSync(Buffer.alloc(6 * 1024 * 1024, 0x20)),
      { 'content-encoding': 'gzip' },
      413,
      null,
    ],
    ['a body over 5 MiB', ' '.repeat(5 * 1024 * 1024 + 10), {}, 413, null],
  ])('rejects %s and stores none of it', async (_, body, headers, status, parameter) => {
    const before = await head()
    const response = await post(body, headers as Record<string, string>)
    expect(response.status).toBe(status)
    const problem = await jsonOf(response)
    expect(problem.status).toBe(status)
    if (parameter) expect(problem.invalid_parameters).toContainEqual(expect.objectContaining(parameter))
    const trace = response.headers.get('konnect-audit-trace-id') ?? ''
    const own = await eventsOfTrace(server.store, server.services.defaultOrgId, trace, 3)
    expect(own.map((e) => e.fields.event_class_id)).toEqual(['AUTHENTICATION_TYPE_PAT', 'konnect-audit', 'KongGateway'])
    expect(own[2]?.fields).toMatchObject({ status, request: '/v1/audit-events' })
    // Besides its own events, only access events of earlier requests may have landed since.
    const since = (await storedEvents(server.store, server.services.defaultOrgId)).slice(before)
    expect(
      since.filter(
        (e) => e.traceId !== trace && e.fields.request !== '/v1/audit-events' && e.fields.request !== '/v1/tokens',
      ),
    ).toEqual([])
  })

  it.each([[{}], [{ 'content-type': 'text/plain' }], [{ 'content-type': 'application/json' }]])(
    'answers a request without a body as holding no events (%j)',
    async (headers) => {
      const response = await server.request('/v1/audit-events', { method: 'POST', token: ingestToken, headers })
      expect(response.status).toBe(400)
      expect((await jsonOf(response)).invalid_parameters).toEqual([
        expect.objectContaining({ field: 'body', rule: 'min_items' }),
      ])
    },
  )

  it('refuses Content-Encoding on JSON admin routes with 415', async () => {
    const response = await server.request('/v1/tokens', {
      method: 'POST',
      body: gzipSync(JSON.stringify({ name: 'x', role: 'admin' })),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    })
    expect(response.status).toBe(415)
  })
})

describe('event_ts of an item that has none (SPEC.md §3.5)', () => {
  it('is the arrival of the request, like its own events, however long the body takes', async () => {
    const clock = testClock(Date.UTC(2026, 10, 26, 9, 14, 3, 500))
    const slow = await startTestServer({}, clock)
    try {
      const orgId = slow.services.defaultOrgId
      const decided = (await slow.store.headSequence(orgId)) + 2
      const { port } = new URL(slow.url)
      const body = ndjson([authz])
      const sent = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/audit-events',
        headers: {
          authorization: `Bearer ${slow.adminToken}`,
          'content-type': 'application/x-ndjson',
          'content-length': Buffer.byteLength(body),
        },
      })
      const answered = new Promise<IncomingMessage>((resolve, reject) => {
        sent.on('response', resolve).on('error', reject)
      })
      sent.write(body.slice(0, 10))
      // The request's own events are committed once its headers are in; the rest of the body comes later.
      for (let round = 0; round < 200 && (await slow.store.headSequence(orgId)) < decided; round++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      clock.nowMs += 3000
      sent.end(body.slice(10))
      const response = await answered
      response.resume()
      expect(response.statusCode).toBe(201)
      const trace = String(response.headers['konnect-audit-trace-id'])
      const [authentication] = await eventsOfTrace(slow.store, orgId, trace, 3)
      const ingested = (await storedEvents(slow.store, orgId)).find(
        (event) => event.fields.event_class_id === 'reports',
      )
      expect(authentication?.fields.event_ts).toBe('2026-11-26T09:14:03Z')
      expect(ingested?.fields.event_ts).toBe('2026-11-26T09:14:03Z')
    } finally {
      await slow.close()
    }
  })
})
