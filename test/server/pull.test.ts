import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { testClock } from '../helpers/test-clock.js'

const clock = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
let server: TestServer
let auditor: string

const item = (minutesAgo: number, type = 'authorization') =>
  type === 'authorization'
    ? {
        type,
        src: '198.51.100.7',
        principal_id: 'p',
        event_class_id: 'reports',
        name: 'Authz.reports',
        action: 'list',
        granted: true,
        event_ts: new Date(clock.nowMs - minutesAgo * 60_000).toISOString(),
      }
    : {
        type,
        src: '198.51.100.7',
        principal_id: 'p',
        request: '/x',
        act: 'GET',
        status: 200,
        event_ts: new Date(clock.nowMs - minutesAgo * 60_000).toISOString(),
      }

async function ingest(items: unknown[]) {
  const response = await server.request('/v1/audit-events', { method: 'POST', ...jsonBody(items) })
  expect(response.status).toBe(201)
  return jsonOf(response)
}

beforeAll(async () => {
  server = await startTestServer({}, clock)
  auditor = (
    await jsonOf(await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'a', role: 'auditor' }) }))
  ).token
  await ingest([item(50), item(40, 'gateway_access'), item(30), item(20, 'gateway_access'), item(10)])
})
afterAll(() => server.close())

const pull = (query: string, accept = 'application/x-ndjson') =>
  server.request(`/v3/audit-logs${query}`, { token: auditor, headers: { accept } })
const lines = async (response: Response) => (await response.text()).split('\n').filter((line) => line !== '')

describe('GET /v3/audit-logs', () => {
  it('returns the stored lines byte for byte as NDJSON, following Link: next to the end', async () => {
    const seen: string[] = []
    let next: string | null = '/v3/audit-logs?page%5Bsize%5D=3'
    while (next) {
      const response: Response = await server.request(next, {
        token: auditor,
        headers: { accept: 'application/x-ndjson' },
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
      seen.push(...(await lines(response)))
      next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null
    }
    const stored = (
      await server.store.readEvents({
        orgId: server.services.defaultOrgId,
        afterSequence: 0,
        throughSequence: 1e9,
        limit: 1e6,
      })
    ).map((e) => e.line.toString())
    expect(seen).toEqual(stored.slice(0, seen.length))
    expect(seen.length).toBeGreaterThanOrEqual(5)
  })

  it('answers NDJSON to an Accept that names it in any case, among other types', async () => {
    const response = await pull('?page%5Bsize%5D=02', 'text/html, Application/X-NDJSON;q=0.9')
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    expect(await lines(response)).toHaveLength(2)
  })

  it.each([
    ['application/x-ndjson;q=0', 'application/json; charset=utf-8'],
    ['application/json, application/x-ndjson;q=0.5', 'application/json; charset=utf-8'],
    ['application/json;q=0.5, application/x-ndjson', 'application/x-ndjson; charset=utf-8'],
  ])('weighs Accept %s by quality: %s', async (accept, type) => {
    const response = await pull('?page%5Bsize%5D=1', accept)
    expect(response.headers.get('content-type')).toBe(type)
    await response.text()
  })

  it('splices lines into the JSON page so 64-bit trace ids survive', async () => {
    const response = await pull('?filter%5Btype%5D=authorization&page%5Bsize%5D=2', 'application/json')
    const text = await response.text()
    expect(text.startsWith('{"data":[{"action":')).toBe(true)
    const body = JSON.parse(text)
    expect(body.meta.page).toEqual({ next: expect.stringMatching(/^\/v3\/audit-logs\?/), previous: null })
    const traceIds = [...text.matchAll(/"trace_id":(\d+)/g)].map((m) => m[1])
    const stored = (
      await server.store.readEvents({
        orgId: server.services.defaultOrgId,
        afterSequence: 0,
        throughSequence: 1e9,
        limit: 1e6,
      })
    ).map((e) => e.line.toString())
    for (const id of traceIds) expect(stored.some((line) => line.includes(`"trace_id":${id},`))).toBe(true)
  })

  it('filters by type and by an inclusive event_ts window', async () => {
    const gte = new Date(clock.nowMs - 40 * 60_000).toISOString()
    const lte = new Date(clock.nowMs - 20 * 60_000).toISOString()
    const window = await lines(
      await pull(`?filter%5Bts%5D%5Bgte%5D=${gte}&filter%5Bts%5D%5Blte%5D=${lte}&page%5Bsize%5D=100`),
    )
    const reports = window.filter(
      (line) => line.includes('"event_class_id":"reports"') || line.includes('"request":"/x"'),
    )
    expect(reports.map((line) => /"event_ts":"([^"]+)"/.exec(line)?.[1])).toEqual([
      '2026-11-26T11:20:00Z',
      '2026-11-26T11:30:00Z',
      '2026-11-26T11:40:00Z',
    ])
    const accessOnly = await lines(
      await pull(`?filter%5Btype%5D=gateway_access&filter%5Bts%5D%5Bgte%5D=${gte}&page%5Bsize%5D=100`),
    )
    expect(accessOnly.every((line) => line.includes('"name":"Ingress"'))).toBe(true)
    expect(accessOnly.filter((line) => line.includes('"request":"/x"'))).toHaveLength(2)
  })

  it('walks a fixed snapshot: events committed after the first page are not part of it', async () => {
    const first = await pull('?filter%5Btype%5D=authorization&page%5Bsize%5D=1')
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] as string
    const added = await ingest([item(45), item(5)])
    const addedIds = added.events.map((event: { trace_id: string }) => `"trace_id":${event.trace_id},`)
    let url: string | null = next
    const rest: string[] = []
    while (url) {
      const response: Response = await server.request(url, {
        token: auditor,
        headers: { accept: 'application/x-ndjson' },
      })
      rest.push(...(await lines(response)))
      url = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null
    }
    expect(rest.length).toBeGreaterThan(0)
    expect(rest.some((line) => addedIds.some((id: string) => line.includes(id)))).toBe(false)
    const fresh = await lines(await pull('?filter%5Btype%5D=authorization&page%5Bsize%5D=1000'))
    expect(addedIds.every((id: string) => fresh.some((line) => line.includes(id)))).toBe(true)
  })

  it.each([
    [
      'a cursor used with other filters',
      async () => {
        const first = await pull('?filter%5Btype%5D=authorization&page%5Bsize%5D=1')
        const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] as string
        return next.replace('authorization', 'gateway_access')
      },
    ],
    ['a cursor we did not make', async () => '/v3/audit-logs?page%5Bafter%5D=bm9wZQ'],
    ['a bad date', async () => '/v3/audit-logs?filter%5Bts%5D%5Bgte%5D=yesterday'],
    [
      'a window whose gte is after its lte',
      async () =>
        '/v3/audit-logs?filter%5Bts%5D%5Bgte%5D=2026-11-26T10:00:00Z&filter%5Bts%5D%5Blte%5D=2026-11-26T09:00:00Z',
    ],
    ['page[size] 0', async () => '/v3/audit-logs?page%5Bsize%5D=0'],
    ['page[size] 1001', async () => '/v3/audit-logs?page%5Bsize%5D=1001'],
    ['an unknown type', async () => '/v3/audit-logs?filter%5Btype%5D=login'],
    ['an unknown parameter', async () => '/v3/audit-logs?filter%5Bname%5D=x'],
  ])('400 for %s', async (_, url) => {
    const response = await server.request(await url(), { token: auditor })
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters[0].source).toBe('query')
  })

  it.each(['0x10', '1e2', '%2B5', '%205', '5.0', ''])(
    '400 is_integer for page[size]=%s, which Ajv alone would coerce',
    async (size) => {
      const response = await server.request(`/v3/audit-logs?page%5Bsize%5D=${size}`, { token: auditor })
      expect(response.status).toBe(400)
      expect((await jsonOf(response)).invalid_parameters).toEqual([
        { field: 'page[size]', rule: 'is_integer', reason: 'must be of type integer', source: 'query' },
      ])
    },
  )

  it('is closed to ingest tokens', async () => {
    const ingestToken = (
      await jsonOf(await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: 'i', role: 'ingest' }) }))
    ).token
    expect((await server.request('/v3/audit-logs', { token: ingestToken })).status).toBe(403)
  })

  it('walks forward with next, then back with prev over the same pages of the snapshot', async () => {
    const linkOf = (response: Response, rel: 'next' | 'prev') =>
      new RegExp(`<([^>]+)>; rel="${rel}"`).exec(response.headers.get('link') ?? '')?.[1] ?? null
    const visit = async (url: string) => {
      const response = await server.request(url, { token: auditor, headers: { accept: 'application/x-ndjson' } })
      expect(response.status).toBe(200)
      return { lines: await lines(response), next: linkOf(response, 'next'), prev: linkOf(response, 'prev') }
    }
    const forward = [await visit('/v3/audit-logs?page%5Bsize%5D=2')]
    expect(forward[0]?.prev).toBeNull()
    for (let next = forward[0]?.next; next; next = forward.at(-1)?.next) forward.push(await visit(next))
    expect(forward.length).toBeGreaterThanOrEqual(3)
    expect(forward.slice(1).every((page) => page.prev !== null)).toBe(true)
    await ingest([item(15), item(25)])

    const backward = [forward.at(-1)]
    for (let prev = forward.at(-1)?.prev; prev; prev = backward.at(-1)?.prev) backward.push(await visit(prev))
    expect(backward.map((page) => page?.lines)).toEqual([...forward].reverse().map((page) => page.lines))
    const backAtStart = backward.at(-1)
    expect(backAtStart?.prev).toBeNull()
    expect(backAtStart?.next).not.toBeNull()
    expect((await visit(backAtStart?.next ?? '')).lines).toEqual(forward[1]?.lines)
  })

  it('links the previous page in the JSON meta exactly when earlier matches exist', async () => {
    const first = await jsonOf(await pull('?filter%5Btype%5D=authorization&page%5Bsize%5D=1', 'application/json'))
    expect(first.meta.page.previous).toBeNull()
    const second = await jsonOf(
      await server.request(first.meta.page.next, { token: auditor, headers: { accept: 'application/json' } }),
    )
    expect(second.meta.page.previous).toMatch(/^\/v3\/audit-logs\?.*page%5Bbefore%5D=/)
    const back = await jsonOf(
      await server.request(second.meta.page.previous, { token: auditor, headers: { accept: 'application/json' } }),
    )
    expect(back.data).toEqual(first.data)
    expect(back.meta.page.previous).toBeNull()
  })

  it.each([
    [
      'page[after] with page[before]',
      async () => '/v3/audit-logs?page%5Bafter%5D=WzAsMCwwLDAsbnVsbF0&page%5Bbefore%5D=WzAsMCwwLDAsbnVsbF0',
      'page[before]',
    ],
    [
      'a prev cursor used with other filters',
      async () => {
        const first = await pull('?filter%5Btype%5D=authorization&page%5Bsize%5D=1')
        const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] as string
        const second = await server.request(next, { token: auditor, headers: { accept: 'application/x-ndjson' } })
        const prev = /<([^>]+)>; rel="prev"/.exec(second.headers.get('link') ?? '')?.[1] as string
        return prev.replace('authorization', 'gateway_access')
      },
      'page[before]',
    ],
    ['a page[before] cursor we did not make', async () => '/v3/audit-logs?page%5Bbefore%5D=bm9wZQ', 'page[before]'],
  ])('400 for %s', async (_, url, field) => {
    const response = await server.request(await url(), { token: auditor })
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters[0]).toMatchObject({ field, source: 'query' })
  })

  it('answers an empty page with an empty NDJSON body', async () => {
    const response = await pull(
      '?filter%5Bts%5D%5Bgte%5D=2020-01-01T00:00:00Z&filter%5Bts%5D%5Blte%5D=2020-01-02T00:00:00Z',
    )
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
    expect(response.headers.get('link')).toBeNull()
  })
})
