// Tests GET /v3/audit-logs/counts over loopback HTTP (SPEC.md §5.9a): UTC-aligned buckets from
// the one holding gte to the one holding lte, empty ones as 0, inclusive bounds, the type filter,
// the total, the 400s (required parameters, gte after lte, over 10,000 buckets) and the roles.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'

const T = Date.UTC(2026, 10, 26, 12, 0, 0)
const clock = { now: () => T }
const iso = (ms: number) => new Date(ms).toISOString()
const minutesBefore = (minutes: number) => T - minutes * 60_000

let server: TestServer
let auditor: string

function item(eventTsMs: number, type: 'authorization' | 'gateway_access') {
  const common = { src: '198.51.100.7', principal_id: 'p', event_ts: iso(eventTsMs) }
  return type === 'authorization'
    ? { ...common, type, event_class_id: 'reports', name: 'Authz.reports', action: 'list', granted: true }
    : { ...common, type, request: '/x', act: 'GET', status: 200 }
}

async function tokenFor(role: 'auditor' | 'ingest'): Promise<string> {
  const response = await server.request('/v1/tokens', { method: 'POST', ...jsonBody({ name: role, role }) })
  return (await jsonOf(response)).token
}

beforeAll(async () => {
  server = await startTestServer({}, clock)
  auditor = await tokenFor('auditor')
  // 08:59:59, 09:00:00 and 09:30:00 authorization; 09:59:59.000 and 11:15:00 access. The server's
  // own events of these requests carry event_ts 12:00:00, outside every window below.
  const events = [
    item(minutesBefore(180) - 1000, 'authorization'),
    item(minutesBefore(180), 'authorization'),
    item(minutesBefore(150), 'authorization'),
    item(minutesBefore(120) - 1000, 'gateway_access'),
    item(minutesBefore(45), 'gateway_access'),
  ]
  const response = await server.request('/v1/audit-events', { method: 'POST', ...jsonBody(events) })
  expect(response.status).toBe(201)
})
afterAll(() => server.close())

function counts(params: Record<string, string>, token = auditor): Promise<Response> {
  return server.request(`/v3/audit-logs/counts?${new URLSearchParams(params).toString()}`, { token })
}

const window = (gteMs: number, lteMs: number, interval: string) => ({
  'filter[ts][gte]': iso(gteMs),
  'filter[ts][lte]': iso(lteMs),
  interval,
})

describe('GET /v3/audit-logs/counts', () => {
  it('counts per UTC hour from the bucket holding gte to the one holding lte, empty ones as 0', async () => {
    const response = await counts(window(minutesBefore(200), minutesBefore(30), '1h'))
    expect(response.status).toBe(200)
    expect(await jsonOf(response)).toEqual({
      data: [
        { start: '2026-11-26T08:00:00Z', count: 1 },
        { start: '2026-11-26T09:00:00Z', count: 3 },
        { start: '2026-11-26T10:00:00Z', count: 0 },
        { start: '2026-11-26T11:00:00Z', count: 1 },
      ],
      total: 5,
    })
  })

  it('counts only inside the inclusive bounds, also in the first and last buckets', async () => {
    const response = await counts(window(minutesBefore(180), minutesBefore(120) - 1000, '1h'))
    expect(await jsonOf(response)).toEqual({
      data: [{ start: '2026-11-26T09:00:00Z', count: 3 }],
      total: 3,
    })
    const narrower = await counts(window(minutesBefore(180) + 1, minutesBefore(120) - 1001, '1h'))
    expect((await jsonOf(narrower)).total).toBe(1)
  })

  it('filters by type', async () => {
    const response = await counts({
      ...window(minutesBefore(200), minutesBefore(30), '1h'),
      'filter[type]': 'gateway_access',
    })
    expect((await jsonOf(response)).data.map((bucket: { count: number }) => bucket.count)).toEqual([0, 1, 0, 1])
  })

  it('aligns minute and day buckets to UTC boundaries', async () => {
    const minutes = await jsonOf(await counts(window(minutesBefore(181) + 30_000, minutesBefore(179), '1m')))
    expect(minutes).toEqual({
      data: [
        { start: '2026-11-26T08:59:00Z', count: 1 },
        { start: '2026-11-26T09:00:00Z', count: 1 },
        { start: '2026-11-26T09:01:00Z', count: 0 },
      ],
      total: 2,
    })
    const days = await jsonOf(await counts(window(T - 86_400_000, minutesBefore(30), '1d')))
    expect(days).toEqual({
      data: [
        { start: '2026-11-25T00:00:00Z', count: 0 },
        { start: '2026-11-26T00:00:00Z', count: 5 },
      ],
      total: 5,
    })
  })

  it('answers one bucket when gte equals lte', async () => {
    const response = await counts(window(minutesBefore(180), minutesBefore(180), '1d'))
    expect(await jsonOf(response)).toEqual({ data: [{ start: '2026-11-26T00:00:00Z', count: 1 }], total: 1 })
  })

  it('allows exactly 10,000 buckets', async () => {
    const response = await counts(window(T - 10_000 * 60_000 + 60_000, T, '1m'))
    expect(response.status).toBe(200)
    expect((await jsonOf(response)).data).toHaveLength(10_000)
  })

  it.each([
    [
      'no filter[ts][gte]',
      { 'filter[ts][lte]': iso(T), interval: '1h' },
      { field: 'filter[ts][gte]', rule: 'required' },
    ],
    [
      'no filter[ts][lte]',
      { 'filter[ts][gte]': iso(T), interval: '1h' },
      { field: 'filter[ts][lte]', rule: 'required' },
    ],
    ['no interval', { 'filter[ts][gte]': iso(T), 'filter[ts][lte]': iso(T) }, { field: 'interval', rule: 'required' }],
    ['an unknown interval', window(T, T, '5m'), { field: 'interval', rule: 'enum' }],
    ['a bad date', { ...window(T, T, '1h'), 'filter[ts][gte]': 'yesterday' }, { field: 'filter[ts][gte]' }],
    ['an unknown type', { ...window(T, T, '1h'), 'filter[type]': 'login' }, { field: 'filter[type]', rule: 'enum' }],
    ['an unknown parameter', { ...window(T, T, '1h'), 'page[size]': '10' }, { rule: 'unknown_property' }],
    ['gte after lte', window(T, T - 1, '1h'), { field: 'filter[ts][gte]', rule: 'invalid' }],
    [
      'more than 10,000 buckets',
      window(T - 10_000 * 60_000, T, '1m'),
      { field: 'interval', reason: 'too many buckets (max 10000)' },
    ],
  ])('400 for %s', async (_, params, parameter) => {
    const response = await counts(params)
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters).toContainEqual(
      expect.objectContaining({ source: 'query', ...parameter }),
    )
  })

  it('is open to admins and auditors, closed to ingest tokens', async () => {
    const params = window(minutesBefore(200), minutesBefore(30), '1h')
    expect((await counts(params, server.adminToken)).status).toBe(200)
    expect((await counts(params, await tokenFor('ingest'))).status).toBe(403)
  })
})
