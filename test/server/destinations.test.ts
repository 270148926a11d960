// Tests the destination routes over loopback HTTP (SPEC.md §5.7): create, read, update and delete
// with their 400/404/409s, the per-org limit, keyset paging with relative links, name filters and
// permissions. Endpoints are IP literals or `.invalid` hosts; nothing connects anywhere.

import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newOrg } from '../../src/server/bootstrap.js'
import { MAX_DESTINATIONS_PER_ORG } from '../../src/server/services/destinations.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { storedEvents } from '../helpers/stored-events.js'
import { testClock } from '../helpers/test-clock.js'

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0)
const clock = testClock(T0)
const LIST = '/v3/audit-log-destinations'

let server: TestServer
let auditorToken: string

beforeAll(async () => {
  server = await startTestServer({}, clock)
  const created = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'aud', role: 'auditor' }) })
  auditorToken = (await jsonOf(created)).token
})
afterAll(() => server.close())

const iso = (ms: number) => new Date(ms).toISOString()
const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''

function validBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `dest-${randomUUID()}`,
    endpoint: 'https://203.0.113.5/konnect',
    log_format: 'json',
    authorization: 'Splunk 1234-destination-secret',
    ...fields,
  }
}

const post = (body: unknown, token?: string) =>
  server.request(LIST, { method: 'POST', ...jsonBody(body), ...(token ? { token } : {}) })
const patch = (id: string, body: unknown) => server.request(`${LIST}/${id}`, { method: 'PATCH', ...jsonBody(body) })
const get = (id: string) => server.request(`${LIST}/${id}`)

async function create(fields: Record<string, unknown> = {}) {
  clock.nowMs += 1_000
  const response = await post(validBody(fields))
  expect(response.status).toBe(201)
  return jsonOf(response)
}

describe('create and read', () => {
  it('creates with the documented shape, TLS verified by default, authorization write-only', async () => {
    clock.nowMs += 1_000
    const response = await post(validBody({ name: 'splunk-prod' }))
    expect(response.status).toBe(201)
    const text = await response.text()
    const created = JSON.parse(text)
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'splunk-prod',
      endpoint: 'https://203.0.113.5/konnect',
      log_format: 'json',
      skip_ssl_verification: false,
      created_at: iso(clock.nowMs),
      updated_at: iso(clock.nowMs),
    })
    expect(text).not.toContain('destination-secret')
    const read = await get(created.id)
    expect(read.status).toBe(200)
    expect(await jsonOf(read)).toEqual(created)
    expect((await get(created.id.toUpperCase())).status).toBe(200)
  })

  it.each(['name', 'endpoint', 'log_format', 'authorization'])('requires %s', async (field) => {
    const { [field]: _omitted, ...body } = validBody()
    const response = await post(body)
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters).toEqual([
      expect.objectContaining({ field, rule: 'required', source: 'body' }),
    ])
  })

  it.each([
    ['a private address', { endpoint: 'https://192.168.1.9/x' }, 'endpoint', 'address 192.168.1.9 is not allowed'],
    ['http', { endpoint: 'http://203.0.113.5/x' }, 'endpoint', 'must use https'],
    ['a blank authorization', { authorization: '   ' }, 'authorization', 'cannot be blank'],
    ['an unknown format', { log_format: 'leef' }, 'log_format', 'must be one of: cef, json, cps'],
    ['an empty name', { name: '' }, 'name', 'must be at least 1 characters'],
    ['a name over 255 bytes', { name: 'é'.repeat(128) }, 'name', 'must be at most 255 bytes'],
    ['a name over 255 characters', { name: 'n'.repeat(256) }, 'name', 'must be at most 255 characters'],
    ['an unknown property', { color: 'red' }, 'color', 'is not a known property'],
  ])('refuses %s with a 400, storing nothing', async (_, fields, field, reason) => {
    const name = `refused-${randomUUID()}`
    const response = await post(validBody({ name, ...fields }))
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters[0]).toMatchObject({ field, reason })
    const listed = await jsonOf(await server.request(`${LIST}?filter%5Bname%5D=${name}`))
    expect(listed.data).toEqual([])
  })

  it('accepts a host that does not resolve and keeps skip_ssl_verification when given', async () => {
    const created = await create({ endpoint: 'https://siem.invalid/x', skip_ssl_verification: true })
    expect(created).toMatchObject({ endpoint: 'https://siem.invalid/x', skip_ssl_verification: true })
  })

  it('refuses a duplicate name with 409; names are case-sensitive', async () => {
    await create({ name: 'elastic' })
    const duplicate = await post(validBody({ name: 'elastic' }))
    expect(duplicate.status).toBe(409)
    expect(await jsonOf(duplicate)).toMatchObject({
      status: 409,
      title: 'Resource Conflict',
      detail: 'A destination with this name already exists',
    })
    expect((await post(validBody({ name: 'Elastic' }))).status).toBe(201)
  })

  it('answers 404 for an unknown id and 400 is_uuid for a malformed one', async () => {
    expect((await get(randomUUID())).status).toBe(404)
    const malformed = await get('not-a-uuid')
    expect(malformed.status).toBe(400)
    expect((await jsonOf(malformed)).invalid_parameters[0]).toMatchObject({ field: 'id', rule: 'is_uuid' })
  })

  it("hides another org's destinations", async () => {
    const mine = await create()
    const other = newOrg('other-destinations', 'admin', clock.now())
    await server.store.createOrg(other.init)
    expect((await server.request(`${LIST}/${mine.id}`, { token: other.secret })).status).toBe(404)
    expect((await server.request(`${LIST}/${mine.id}`, { method: 'DELETE', token: other.secret })).status).toBe(404)
    expect((await jsonOf(await server.request(LIST, { token: other.secret }))).data).toEqual([])
  })
})

describe('update and delete', () => {
  it('changes only the given fields and bumps updated_at', async () => {
    const created = await create({ skip_ssl_verification: true })
    clock.nowMs += 5_000
    const response = await patch(created.id, { log_format: 'cps', authorization: 'Bearer rotated' })
    expect(response.status).toBe(200)
    const updated = { ...created, log_format: 'cps', updated_at: iso(clock.nowMs) }
    expect(await jsonOf(response)).toEqual(updated)
    expect(await jsonOf(await get(created.id))).toEqual(updated)
    expect(await jsonOf(await patch(created.id, {}))).toEqual(updated)
  })

  it('refuses bad fields, a taken name and unknown ids, storing nothing', async () => {
    const taken = await create()
    const created = await create()
    const bad = await patch(created.id, { endpoint: 'https://[fe80::1]/x', log_format: 'json' })
    expect(bad.status).toBe(400)
    expect((await jsonOf(bad)).invalid_parameters).toEqual([
      expect.objectContaining({ field: 'endpoint', reason: 'address fe80::1 is not allowed' }),
    ])
    const renamed = await patch(created.id, { name: taken.name, log_format: 'cef' })
    expect(renamed.status).toBe(409)
    expect((await jsonOf(renamed)).detail).toBe('A destination with this name already exists')
    expect(await jsonOf(await get(created.id))).toEqual(created)
    expect((await patch(randomUUID(), { name: 'x' })).status).toBe(404)
  })

  it('deletes with 204, then 404', async () => {
    const created = await create()
    expect((await server.request(`${LIST}/${created.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await get(created.id)).status).toBe(404)
    expect((await server.request(`${LIST}/${created.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('refuses to delete the destination the webhook uses with 409, until it uses another', async () => {
    const used = await create()
    const webhook = (body: unknown) => server.request('/v3/audit-log-webhook', { method: 'PATCH', ...jsonBody(body) })
    expect((await webhook({ audit_log_destination_id: used.id })).status).toBe(200)
    const refused = await server.request(`${LIST}/${used.id}`, { method: 'DELETE' })
    expect(refused.status).toBe(409)
    expect(await jsonOf(refused)).toMatchObject({ title: 'Resource Conflict', detail: 'destination is in use' })
    expect((await get(used.id)).status).toBe(200)
    expect((await webhook({ audit_log_destination_id: (await create()).id })).status).toBe(200)
    expect((await server.request(`${LIST}/${used.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await server.request('/v3/audit-log-webhook', { method: 'DELETE' })).status).toBe(204)
  })
})

describe('listing (SPEC.md §5.7)', () => {
  const prefix = `page-${randomUUID().slice(0, 8)}`
  const names = ['Alpha', 'bravo', 'CHARLIE', 'delta', 'echo'].map((name) => `${prefix}-${name}`)
  const contains = `filter%5Bname%5D%5Bcontains%5D=${prefix.toUpperCase()}`
  beforeAll(async () => {
    for (const name of names) await create({ name })
  })
  const page = async (path: string) => {
    const response = await server.request(path)
    expect(response.status).toBe(200)
    return jsonOf(response)
  }
  const namesOf = (body: { data: Array<{ name: string }> }) => body.data.map((each) => each.name)

  it('pages forward and back through relative links that keep the filter', async () => {
    const first = await page(`${LIST}?page%5Bsize%5D=2&${contains}`)
    expect(namesOf(first)).toEqual(names.slice(0, 2))
    expect(first.meta).toEqual({
      next: expect.stringMatching(/^\/v3\/audit-log-destinations\?page%5Bsize%5D=2&page%5Bafter%5D=[\w-]+&/),
      previous: null,
      size: 2,
    })
    expect(first.meta.next).toContain(`filter%5Bname%5D%5Bcontains%5D=${prefix.toUpperCase()}`)
    const second = await page(first.meta.next)
    expect(namesOf(second)).toEqual(names.slice(2, 4))
    const third = await page(second.meta.next)
    expect(namesOf(third)).toEqual(names.slice(4))
    expect(third.meta.next).toBeNull()
    expect(third.meta.previous).toMatch(/page%5Bbefore%5D=/)
    const backToSecond = await page(third.meta.previous)
    expect(namesOf(backToSecond)).toEqual(names.slice(2, 4))
    const backToFirst = await page(backToSecond.meta.previous)
    expect(namesOf(backToFirst)).toEqual(names.slice(0, 2))
    expect(backToFirst.meta.previous).toBeNull()
    expect(backToFirst.meta.next).not.toBeNull()
  })

  it('defaults to 100 per page in created_at order, without links when all fit', async () => {
    const all = await page(LIST)
    expect(all.meta).toEqual({ next: null, previous: null, size: 100 })
    const created = all.data.map((each: { created_at: string }) => each.created_at)
    expect(created).toEqual([...created].sort())
  })

  it('filters by exact name, with or without [eq], and by case-insensitive substring', async () => {
    const exact = encodeURIComponent(names[2] ?? '')
    expect(namesOf(await page(`${LIST}?filter%5Bname%5D=${exact}`))).toEqual([names[2]])
    expect(namesOf(await page(`${LIST}?filter%5Bname%5D%5Beq%5D=${exact}`))).toEqual([names[2]])
    expect(namesOf(await page(`${LIST}?filter%5Bname%5D%5Beq%5D=${exact.toLowerCase()}`))).toEqual([])
    expect(namesOf(await page(`${LIST}?filter%5Bname%5D%5Bcontains%5D=${prefix}-charlie`))).toEqual([names[2]])
    expect(namesOf(await page(`${LIST}?${contains}`))).toEqual(names)
  })

  it.each([
    ['two filters', `filter%5Bname%5D=a&filter%5Bname%5D%5Bcontains%5D=b`, 'filter[name][contains]'],
    ['a cursor we did not make', 'page%5Bafter%5D=garbage', 'page[after]'],
    [
      'a cursor without a position',
      `page%5Bbefore%5D=${Buffer.from('{"id":1}').toString('base64url')}`,
      'page[before]',
    ],
    ['both directions', 'page%5Bafter%5D=a&page%5Bbefore%5D=b', 'page[before]'],
    ['page size 0', 'page%5Bsize%5D=0', 'page[size]'],
    ['page size 1001', 'page%5Bsize%5D=1001', 'page[size]'],
    ['an unknown parameter', 'filter%5Bendpoint%5D=x', 'filter[endpoint]'],
  ])('refuses %s with a 400 on the query', async (_, query, field) => {
    const response = await server.request(`${LIST}?${query}`)
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters[0]).toMatchObject({ field, source: 'query' })
  })

  it('names the bound a page size breaks', async () => {
    const small = await jsonOf(await server.request(`${LIST}?page%5Bsize%5D=0`))
    expect(small.invalid_parameters[0]).toMatchObject({ field: 'page[size]', rule: 'min', minimum: 1 })
    const large = await jsonOf(await server.request(`${LIST}?page%5Bsize%5D=1001`))
    expect(large.invalid_parameters[0]).toMatchObject({ field: 'page[size]', rule: 'max', maximum: 1000 })
  })
})

describe('the per-org limit', () => {
  it(`refuses destination ${MAX_DESTINATIONS_PER_ORG + 1} with 409`, async () => {
    const limited = await startTestServer({}, clock)
    try {
      const orgId = limited.services.defaultOrgId
      for (let index = 0; index < MAX_DESTINATIONS_PER_ORG; index++) {
        const id = randomUUID()
        const destination = {
          id,
          orgId,
          name: `d${index}`,
          endpoint: 'https://203.0.113.5/x',
          authorization: 'x',
          logFormat: 'cef' as const,
          skipSslVerification: false,
          createdAt: T0,
          updatedAt: T0,
        }
        expect(await limited.store.insertDestination(destination, MAX_DESTINATIONS_PER_ORG)).toBe('inserted')
      }
      const refused = await limited.request(LIST, { method: 'POST', ...jsonBody(validBody()) })
      expect(refused.status).toBe(409)
      expect((await jsonOf(refused)).detail).toContain(`at most ${MAX_DESTINATIONS_PER_ORG} destinations`)
    } finally {
      await limited.close()
    }
  })
})

describe('permissions (SPEC.md §5.2)', () => {
  it.each([
    ['GET', LIST, 'list'],
    ['POST', LIST, 'create'],
    ['GET', `${LIST}/${randomUUID()}`, 'retrieve'],
    ['PATCH', `${LIST}/${randomUUID()}`, 'edit'],
    ['DELETE', `${LIST}/${randomUUID()}`, 'delete'],
  ])('refuses an auditor %s %s with 403 and records %s denied', async (method, path, action) => {
    const body = method === 'POST' || method === 'PATCH' ? jsonBody(validBody()) : {}
    const response = await server.request(path, { method, token: auditorToken, ...body })
    expect(response.status).toBe(403)
    const events = (await storedEvents(server.store, server.services.defaultOrgId)).filter(
      (event) => event.traceId === traceOf(response),
    )
    expect(events[1]?.fields).toMatchObject({ name: 'Authz.audit-log-destinations', action, granted: false })
  })

  it('answers 401 without a token', async () => {
    expect((await server.request(LIST, { token: null })).status).toBe(401)
    expect((await post(validBody(), `kat_${'B'.repeat(43)}`)).status).toBe(401)
  })
})
