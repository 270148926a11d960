import { connect } from 'node:net'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readJwks } from '../../src/core/jwks.js'
import { LineVerifier } from '../../src/core/verify.js'
import { REQUEST_TIMEOUT_MS } from '../../src/server/app.js'
import { answerClientError } from '../../src/server/problem.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace, storedEvents } from '../helpers/stored-events.js'
import { testClock } from '../helpers/test-clock.js'

const clock = testClock(Date.UTC(2026, 10, 26, 9, 0, 0))
let server: TestServer
let orgId: string

beforeAll(async () => {
  server = await startTestServer({}, clock)
  orgId = server.services.defaultOrgId
})
afterAll(() => server.close())

/** A request's stored events; `count` waits for a mutating request's access event (written after the response). */
const eventsFor = (traceId: string, count = 0) => eventsOfTrace(server.store, orgId, traceId, count)
const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''

async function createToken(role: string, extra: Record<string, unknown> = {}) {
  const response = await server.request('/v1/tokens', {
    method: 'POST',
    ...jsonBody({ name: `t-${role}`, role, ...extra }),
  })
  expect(response.status).toBe(201)
  return (await jsonOf(response)) as { id: string; token: string }
}

describe('public routes', () => {
  it('GET /healthz answers without auth or events', async () => {
    const response = await server.request('/healthz', { token: null })
    expect(response.status).toBe(200)
    expect(await jsonOf(response)).toEqual({ status: 'ok', version: expect.any(String), store: 'sqlite' })
    expect(traceOf(response)).toMatch(/^\d+$/)
    expect(await eventsFor(traceOf(response))).toEqual([])
  })

  it('serves the JWKS publicly, ignoring a bad token, with caching headers', async () => {
    const response = await server.request('/v2/audit-log-webhook/jwks.json', { token: `kat_${'A'.repeat(43)}` })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('public, max-age=300')
    expect(response.headers.get('vary')).toBe('Authorization')
    const { keys } = readJwks(await response.text())
    expect(keys).toHaveLength(1)
    expect(await eventsFor(traceOf(response))).toEqual([])
    const unknownOrg = await server.request('/v2/audit-log-webhook/jwks.json?org_id=nope', { token: null })
    expect(unknownOrg.status).toBe(404)
    const typo = await server.request('/v2/audit-log-webhook/jwks.json?orgid=x', { token: null })
    expect(typo.status).toBe(400)
  })
})

describe('authentication and authorization events (SPEC.md §3.4)', () => {
  it('whoami records a successful authentication and a granted authorization, before answering', async () => {
    const response = await server.request('/v1/whoami', { headers: { 'user-agent': 'tests/1.0 (bad\u00e9char)' } })
    expect(response.status).toBe(200)
    const body = await jsonOf(response)
    expect(body).toMatchObject({ token: { name: 'initial-admin', role: 'admin' }, org: { id: orgId, name: 'default' } })
    const events = await eventsFor(traceOf(response))
    expect(events.map((e) => [e.fields.name, e.fields.severity])).toEqual([
      ['AUTHENTICATION_OUTCOME_SUCCESS', 0],
      ['Authz.whoami', 1],
    ])
    expect(events[0]?.fields).toMatchObject({
      event_class_id: 'AUTHENTICATION_TYPE_PAT',
      request: '/v1/whoami',
      success: true,
      src: '127.0.0.1',
      principal_id: body.token.id,
      user_agent: 'tests/1.0 (bad\ufffdchar)',
    })
    expect(events[1]?.fields).toMatchObject({ event_class_id: 'konnect-audit', action: 'retrieve', granted: true })
  })

  it.each([
    ['no header', null, 'AUTHENTICATION_TYPE_INVALID', 'AUTHENTICATION_OUTCOME_INVALID', 7, 'Unauthorized'],
    [
      'a malformed token',
      'kat_short',
      'AUTHENTICATION_TYPE_INVALID',
      'AUTHENTICATION_OUTCOME_INVALID',
      7,
      'Unauthorized',
    ],
    [
      'an unknown token',
      `kat_${'B'.repeat(42)}A`,
      'AUTHENTICATION_TYPE_PAT',
      'AUTHENTICATION_OUTCOME_NOT_FOUND',
      1,
      'Unauthorized',
    ],
  ])('401 for %s, with the denial stored', async (_, token, classId, name, severity, detail) => {
    const response = await server.request('/v1/tokens', {
      method: 'POST',
      token,
      ...jsonBody({ name: 'x', role: 'admin' }),
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const trace = traceOf(response)
    expect(await jsonOf(response)).toEqual({
      status: 401,
      title: 'Unauthorized',
      type: 'https://httpstatuses.com/401',
      instance: `kong:trace:${trace}`,
      detail,
    })
    const events = await eventsFor(trace, 3)
    expect(events.map((e) => e.fields.name)).toEqual([name, 'Authz.tokens', 'Ingress'])
    expect(events[0]?.fields).toMatchObject({ event_class_id: classId, severity, success: false, principal_id: '' })
    expect(events[1]?.fields).toMatchObject({ granted: false, action: 'create', severity: 6 })
    expect(events[2]?.fields).toMatchObject({ act: 'POST', status: 401, severity: 6, query: '{}' })
  })

  it('401 Token expired and Token revoked name the token as principal', async () => {
    const expiring = await createToken('auditor', { expires_at: new Date(clock.nowMs + 60_000).toISOString() })
    clock.nowMs += 120_000
    const expired = await server.request('/v1/whoami', { token: expiring.token })
    expect(expired.status).toBe(401)
    expect((await jsonOf(expired)).detail).toBe('Token expired')
    expect((await eventsFor(traceOf(expired)))[0]?.fields).toMatchObject({
      name: 'AUTHENTICATION_OUTCOME_TOKEN_EXPIRED',
      principal_id: expiring.id,
      severity: 1,
    })
    const revoked = await createToken('auditor')
    expect((await server.request(`/v1/tokens/${revoked.id}`, { method: 'DELETE' })).status).toBe(204)
    const denied = await server.request('/v1/whoami', { token: revoked.token })
    expect((await jsonOf(denied)).detail).toBe('Token revoked')
    expect((await eventsFor(traceOf(denied)))[0]?.fields).toMatchObject({
      name: 'AUTHENTICATION_OUTCOME_DISABLED',
      severity: 6,
    })
  })

  it('403 when the role lacks the permission, with granted=false stored', async () => {
    const ingest = await createToken('ingest')
    const response = await server.request('/v1/keys', { token: ingest.token })
    expect(response.status).toBe(403)
    expect((await jsonOf(response)).detail).toBe('You do not have permission to perform this action')
    const events = await eventsFor(traceOf(response))
    expect(events.map((e) => [e.fields.name, e.fields.granted ?? e.fields.success])).toEqual([
      ['AUTHENTICATION_OUTCOME_SUCCESS', true],
      ['Authz.keys', false],
    ])
  })

  it('a mutating request adds an access event with its status and query', async () => {
    const response = await server.request('/v1/keys/rotate?b=2&a=1&a=3', { method: 'POST' })
    expect(response.status).toBe(400)
    expect((await jsonOf(response)).invalid_parameters[0]).toMatchObject({ rule: 'unknown_property', source: 'query' })
    expect((await eventsFor(traceOf(response), 3)).at(-1)?.fields).toMatchObject({
      status: 400,
      query: '{"a":["1","3"],"b":"2"}',
    })
    const rotated = await server.request('/v1/keys/rotate', { method: 'POST' })
    expect(rotated.status).toBe(201)
    const access = (await eventsFor(traceOf(rotated), 3)).at(-1)
    expect(access?.fields).toMatchObject({
      name: 'Ingress',
      event_class_id: 'KongGateway',
      act: 'POST',
      status: 201,
      request: '/v1/keys/rotate',
    })
  })
})

describe('tokens and keys', () => {
  it('creates a token whose secret is shown once, lists without secrets, pages', async () => {
    const created = await createToken('auditor')
    expect(created.token).toMatch(/^kat_[A-Za-z0-9_-]{43}$/)
    const first = await server.request('/v1/tokens?page%5Bsize%5D=1')
    const page = await jsonOf(first)
    expect(page.data).toHaveLength(1)
    expect(JSON.stringify(page)).not.toContain('kat_')
    expect(page.meta.next).toMatch(/^\/v1\/tokens\?/)
    const second = await jsonOf(await server.request(page.meta.next))
    expect(second.data[0].id).not.toBe(page.data[0].id)
    expect((await server.request('/v1/tokens?page%5Bafter%5D=garbage')).status).toBe(400)
  })

  it('pages the tokens both ways (SPEC.md §5.3, paging as §5.7)', async () => {
    for (let i = 0; i < 3; i++) await createToken('auditor')
    const all = (await jsonOf(await server.request('/v1/tokens?page%5Bsize%5D=1000'))).data.map(
      (token: { id: string }) => token.id,
    )
    const forward: Array<{ ids: string[]; next: string | null; previous: string | null }> = []
    let link: string | null = '/v1/tokens?page%5Bsize%5D=2'
    while (link !== null && forward.length < 1000) {
      const { data, meta } = await jsonOf(await server.request(link))
      forward.push({ ids: data.map((token: { id: string }) => token.id), next: meta.next, previous: meta.previous })
      link = meta.next
    }
    expect(forward.flatMap((page) => page.ids)).toEqual(all)
    expect(forward[0]?.previous).toBeNull()
    expect(forward.slice(1).every((page) => page.previous !== null)).toBe(true)
    // Walking back from the last page meets the same pages.
    const backward: string[][] = []
    link = forward.at(-1)?.previous ?? null
    while (link !== null && backward.length < 1000) {
      const { data, meta } = await jsonOf(await server.request(link))
      backward.unshift(data.map((token: { id: string }) => token.id))
      link = meta.previous
    }
    expect(backward).toEqual(forward.slice(0, -1).map((page) => page.ids))
    const both = await server.request(`${forward[1]?.previous}&page%5Bafter%5D=x`)
    expect(both.status).toBe(400)
    // A cursor this list did not make (another list's, a forged one) is a 400, not an empty page.
    const foreign = [{ created_at: 0, id: all[0] }, { id: all[0] }, { token: 'x' }].map((cursor) =>
      Buffer.from(JSON.stringify(cursor)).toString('base64url'),
    )
    for (const cursor of foreign) {
      const response = await server.request(`/v1/tokens?page%5Bafter%5D=${cursor}`)
      expect(response.status).toBe(400)
      expect((await jsonOf(response)).detail).toBe('Invalid page cursor')
    }
  })

  it('records when a token was last used, at most once a minute', async () => {
    const created = await createToken('auditor')
    const lastUsed = async () => {
      const page = await jsonOf(await server.request('/v1/tokens?page%5Bsize%5D=1000'))
      return page.data.find((token: { id: string }) => token.id === created.id).last_used_at
    }
    expect(await lastUsed()).toBe('0001-01-01T00:00:00Z')
    await server.request('/v1/whoami', { token: created.token })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await lastUsed()).toBe(new Date(clock.nowMs).toISOString())
    clock.nowMs += 1000
    await server.request('/v1/whoami', { token: created.token })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await lastUsed()).toBe(new Date(clock.nowMs - 1000).toISOString())
  })

  it('accepts a POST without a body whether or not it says application/json', async () => {
    const typed = await server.request('/v1/keys/rotate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    })
    expect(typed.status).toBe(201)
    const untyped = await server.request('/v1/keys/rotate', { method: 'POST' })
    expect(untyped.status).toBe(201)
  })

  it('refuses to revoke the last admin token, and 404s unknown ids', async () => {
    const me = await jsonOf(await server.request('/v1/whoami'))
    const last = await server.request(`/v1/tokens/${me.token.id}`, { method: 'DELETE' })
    expect(last.status).toBe(409)
    expect((await jsonOf(last)).detail).toBe('Cannot revoke the last admin token')
    expect((await server.request('/v1/tokens/00000000-0000-4000-8000-000000000000', { method: 'DELETE' })).status).toBe(
      404,
    )
    const notUuid = await server.request('/v1/tokens/abc', { method: 'DELETE' })
    expect(notUuid.status).toBe(400)
    expect((await jsonOf(notUuid)).invalid_parameters[0]).toMatchObject({ rule: 'is_uuid' })
  })

  it('rotation keeps the retired key in the JWKS, so every stored line still verifies', async () => {
    const keys = await jsonOf(await server.request('/v1/keys'))
    expect(keys.data[0].status).toBe('active')
    expect(keys.data.filter((k: { status: string }) => k.status === 'retired').length).toBeGreaterThan(0)
    const jwks = await (await server.request('/v2/audit-log-webhook/jwks.json', { token: null })).text()
    expect(JSON.parse(jwks).keys.map((k: { kid: string }) => k.kid)).toEqual(
      keys.data.map((k: { kid: string }) => k.kid),
    )
    const verifier = new LineVerifier(readJwks(jwks).keys)
    const events = await storedEvents(server.store, orgId)
    expect(events.length).toBeGreaterThan(10)
    for (const { line } of events) expect(verifier.verify(Buffer.from(line)).status).toBe('valid')
  })
})

describe('bad requests get problem+json and store nothing but their own audit events', () => {
  it.each([
    ['an unknown property', jsonBody({ name: 'x', role: 'admin', color: 'red' }), 400, 'unknown_property'],
    [
      'a duplicate key',
      { body: '{"name":"x","role":"admin","name":"y"}', headers: { 'content-type': 'application/json' } },
      400,
      'invalid',
    ],
    ['a wrong type', jsonBody({ name: 5, role: 'admin' }), 400, 'is_string'],
    ['a bad enum', jsonBody({ name: 'x', role: 'root' }), 400, 'enum'],
    ['a missing field', jsonBody({ role: 'admin' }), 400, 'required'],
    ['a bad date', jsonBody({ name: 'x', role: 'admin', expires_at: 'tomorrow' }), 400, 'is_date_time'],
    ['malformed JSON', { body: '{"name":', headers: { 'content-type': 'application/json' } }, 400, undefined],
    ['a wrong content type', { body: 'name=x', headers: { 'content-type': 'text/plain' } }, 415, undefined],
    [
      'a body that is not UTF-8',
      {
        body: Buffer.from('{"name":"x\xff","role":"admin"}', 'latin1'),
        headers: { 'content-type': 'application/json' },
      },
      400,
      undefined,
    ],
    [
      'a charset other than UTF-8',
      { body: '{"name":"x","role":"admin"}', headers: { 'content-type': 'application/json; charset=iso-8859-1' } },
      415,
      undefined,
    ],
    ['an oversized body', jsonBody({ name: 'x'.repeat(70_000), role: 'admin' }), 413, undefined],
  ])('%s', async (_, init, status, rule) => {
    const before = (await server.request('/v1/tokens?page%5Bsize%5D=1000').then(jsonOf)).data.length
    const response = await server.request('/v1/tokens', { method: 'POST', ...(init as RequestInit) })
    expect(response.status).toBe(status)
    const problem = await jsonOf(response)
    expect(problem).toMatchObject({ status, instance: `kong:trace:${traceOf(response)}` })
    if (rule) expect(problem.invalid_parameters[0]).toMatchObject({ rule, source: 'body' })
    if (status === 400 && !rule)
      expect(problem).toMatchObject({
        detail: 'Could not parse request body',
        invalid_parameters: [{ field: 'body', reason: 'request format is invalid' }],
      })
    const after = (await server.request('/v1/tokens?page%5Bsize%5D=1000').then(jsonOf)).data.length
    expect(after).toBe(before)
    const access = (await eventsFor(traceOf(response), 3)).at(-1)
    expect(access?.fields).toMatchObject({ name: 'Ingress', status })
  })

  it('accepts a body that declares UTF-8, and a POST without a body whatever its Content-Type', async () => {
    for (const contentType of ['Application/JSON; Charset="UTF-8"', 'application/json; charset=utf8']) {
      const utf8 = await server.request('/v1/tokens', {
        method: 'POST',
        body: JSON.stringify({ name: 'ü-charset', role: 'auditor' }),
        headers: { 'content-type': contentType },
      })
      expect(utf8.status).toBe(201)
      expect((await jsonOf(utf8)).name).toBe('ü-charset')
    }
    const rotate = await server.request('/v1/keys/rotate', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
    })
    expect(rotate.status).toBe(201)
  })

  it.each([
    ['a control character in a header', 'User-Agent: a\x01b\r\n'],
    ['a bad Content-Length', 'Content-Length: abc\r\n'],
  ])('answers a request the HTTP parser refuses (%s) with problem+json and a trace id', async (_, header) => {
    const { port } = new URL(server.url)
    const socket = connect(Number(port), '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    const closed = new Promise((resolve, reject) => socket.on('close', resolve).on('error', reject))
    socket.write(`GET /v1/whoami HTTP/1.1\r\nHost: x\r\n${header}\r\n`)
    await closed
    const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/)
    const traceId = /\r\nKonnect-Audit-Trace-Id: (\d+)\r\n/.exec(head)?.[1]
    expect(JSON.parse(body)).toMatchObject({ status: 400, title: 'Bad Request', instance: `kong:trace:${traceId}` })
  })

  it('answers 408 when Node reports a request that did not arrive in time', async () => {
    const socket = new PassThrough()
    const written: Buffer[] = []
    socket.on('data', (chunk: Buffer) => written.push(chunk))
    answerClientError(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket)
    await new Promise((resolve) => socket.on('finish', resolve))
    const [head = '', body = ''] = Buffer.concat(written).toString('utf8').split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(JSON.parse(body)).toMatchObject({ status: 408, title: 'Request Timeout' })
  })

  it('logs a client that leaves mid-body as gone, not as an error of the server', async () => {
    const log = new PassThrough()
    let text = ''
    log.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
    })
    const logged = await startTestServer({}, undefined, { level: 'info', stream: log })
    try {
      const { port } = new URL(logged.url)
      const socket = connect(Number(port), '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write(
        `POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${logged.adminToken}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
      socket.destroy()
      for (let round = 0; round < 100 && !text.includes('client went away'); round++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(text).toContain('client went away before its request was read')
      expect(text).not.toContain('"level":50')
    } finally {
      await logged.close()
    }
  })

  it('gives a client at most two minutes to send a whole request', () => {
    expect(server.app.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS)
    expect(REQUEST_TIMEOUT_MS).toBe(120_000)
  })

  it('refuses a body with members on a request that takes none, rather than ignore it', async () => {
    const rotate = (body: string) =>
      server.request('/v1/keys/rotate', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const withMember = await rotate('{"foo":1}')
    expect(withMember.status).toBe(400)
    expect((await jsonOf(withMember)).invalid_parameters).toEqual([
      { field: 'foo', rule: 'unknown_property', reason: 'is not a known property', source: 'body' },
    ])
    expect((await rotate('[1,2]')).status).toBe(400)
    expect((await rotate('null')).status).toBe(400)
    expect((await rotate('{}')).status).toBe(201)
    const created = await createToken('auditor')
    const revoke = await server.request(`/v1/tokens/${created.id}`, { method: 'DELETE', ...jsonBody({ x: 1 }) })
    expect(revoke.status).toBe(400)
  })

  it('404 for an unknown path and 405 for a wrong method, without events', async () => {
    const missing = await server.request('/v9/nothing')
    expect(missing.status).toBe(404)
    expect(await jsonOf(missing)).toMatchObject({ status: 404, title: 'Not Found' })
    const wrong = await server.request('/v1/whoami', { method: 'DELETE' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET')
    expect(await eventsFor(traceOf(missing))).toEqual([])
    expect(await eventsFor(traceOf(wrong))).toEqual([])
  })
})
