// The shared auth suite (DESIGN.md §8; SPEC.md §3.4, §5.1, §5.2), run on every protected route of
// the route table: without a token → 401 with an INVALID authentication event and a denied
// authorization event (plus the access event of a mutating request) in the unattributed org; each
// role outside the route's permission → 403 with granted=false in the token's org; each allowed
// role gets past auth. Also: public routes, 404 and 405 record nothing; the decision events share
// the trace id and are committed before the handler runs; a store that cannot commit them fails
// the request closed with 503 before the handler runs.

import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Permission, RouteDefinition } from '../../src/server/routes/define-route.js'
import { routes } from '../../src/server/routes/index.js'
import type { Role } from '../../src/store/store.js'
import { ROLES, StoreError } from '../../src/store/store.js'
import type { TestServer } from '../helpers/server.js'
import { jsonBody, jsonOf, startTestServer } from '../helpers/server.js'
import { eventsOfTrace, storedEvents } from '../helpers/stored-events.js'

type ProtectedRoute = RouteDefinition & { readonly permission: Permission }
interface RoleToken {
  readonly id: string
  readonly token: string
  readonly orgId: string
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])

const protectedRoutes = routes.filter((route): route is ProtectedRoute => route.permission !== null)
const publicRoutes = routes.filter((route) => route.permission === null)

let server: TestServer
let unattributedOrgId: string
const tokens = new Map<Role, RoleToken>()

beforeAll(async () => {
  server = await startTestServer()
  unattributedOrgId = server.services.defaultOrgId
  for (const role of ROLES) {
    const response = await server.request('/v1/tokens', {
      method: 'POST',
      ...jsonBody({ name: `auth-suite-${role}`, role }),
    })
    expect(response.status).toBe(201)
    const created = await jsonOf(response)
    tokens.set(role, { id: created.id, token: created.token, orgId: created.org_id })
  }
})
afterAll(() => server.close())

const traceOf = (response: Response) => response.headers.get('konnect-audit-trace-id') ?? ''

function tokenOf(role: Role): RoleToken {
  const token = tokens.get(role)
  if (!token) throw new Error(`no ${role} token was created`)
  return token
}

/** A concrete path for the route: every URL parameter becomes a fresh random UUID. */
const concretePath = (route: RouteDefinition) => route.url.replace(/:[^/]+/g, () => randomUUID())

/** Sends the route's method to it, with an empty JSON object as the body where a body is expected. */
function requestRoute(route: RouteDefinition, token: string | null, path = concretePath(route)): Promise<Response> {
  return server.request(path, { method: route.method, token, ...(WITH_BODY.has(route.method) ? jsonBody({}) : {}) })
}

/** Drains or cancels the body so the connection is freed (an SSE stream would never end). */
async function discardBody(response: Response): Promise<void> {
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) await response.body?.cancel()
  else await response.arrayBuffer()
}

/** The org's events of one trace, waiting (bounded) for `count` of them. */
const eventsOfRequest = (orgId: string, traceId: string, count: number) =>
  eventsOfTrace(server.store, orgId, traceId, count)

const expectedEventCount = (route: RouteDefinition) => (MUTATING.has(route.method) ? 3 : 2)

describe.each(protectedRoutes)('$method $url', (route) => {
  const { resource, action, roles } = route.permission

  it('401 without a token: INVALID authentication and denied authorization stored in the unattributed org', async () => {
    const path = concretePath(route)
    const response = await requestRoute(route, null, path)
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const traceId = traceOf(response)
    expect(traceId).toMatch(/^[1-9]\d*$/)
    expect(await jsonOf(response)).toEqual({
      status: 401,
      title: 'Unauthorized',
      type: 'https://httpstatuses.com/401',
      instance: `kong:trace:${traceId}`,
      detail: 'Unauthorized',
    })

    const events = await eventsOfRequest(unattributedOrgId, traceId, expectedEventCount(route))
    const common = { org_id: unattributedOrgId, principal_id: '', trace_id: traceId, src: '127.0.0.1' }
    expect(events.map((event) => event.fields)).toEqual([
      expect.objectContaining({
        ...common,
        event_class_id: 'AUTHENTICATION_TYPE_INVALID',
        name: 'AUTHENTICATION_OUTCOME_INVALID',
        success: false,
        request: path,
        severity: 7,
      }),
      expect.objectContaining({
        ...common,
        event_class_id: 'konnect-audit',
        name: `Authz.${resource}`,
        action,
        granted: false,
        severity: 6,
      }),
      ...(MUTATING.has(route.method)
        ? [expect.objectContaining({ ...common, name: 'Ingress', act: route.method, status: 401, request: path })]
        : []),
    ])
  })

  for (const role of ROLES.filter((candidate) => !roles.includes(candidate))) {
    it(`403 for the ${role} role, with granted=false stored in the token's org`, async () => {
      const token = tokenOf(role)
      const response = await requestRoute(route, token.token)
      expect(response.status).toBe(403)
      const traceId = traceOf(response)
      expect(await jsonOf(response)).toMatchObject({
        status: 403,
        title: 'Forbidden',
        instance: `kong:trace:${traceId}`,
        detail: 'You do not have permission to perform this action',
      })
      const events = await eventsOfRequest(token.orgId, traceId, expectedEventCount(route))
      const common = { org_id: token.orgId, principal_id: token.id, trace_id: traceId }
      expect(events.map((event) => event.fields)).toEqual([
        expect.objectContaining({ ...common, name: 'AUTHENTICATION_OUTCOME_SUCCESS', success: true }),
        expect.objectContaining({ ...common, name: `Authz.${resource}`, action, granted: false, severity: 6 }),
        ...(MUTATING.has(route.method)
          ? [expect.objectContaining({ ...common, name: 'Ingress', act: route.method, status: 403 })]
          : []),
      ])
    })
  }

  for (const role of roles) {
    it(`the ${role} role gets past authentication and authorization`, async () => {
      const token = tokenOf(role)
      const response = await requestRoute(route, token.token)
      await discardBody(response)
      expect(response.status, `${route.method} ${route.url} as ${role}`).not.toBe(401)
      expect(response.status, `${route.method} ${route.url} as ${role}`).not.toBe(403)
      expect(response.status, `${route.method} ${route.url} as ${role}`).toBeLessThan(500)
      const events = await eventsOfRequest(token.orgId, traceOf(response), expectedEventCount(route))
      expect(events.map((event) => event.fields)).toEqual([
        expect.objectContaining({ name: 'AUTHENTICATION_OUTCOME_SUCCESS', principal_id: token.id }),
        expect.objectContaining({ name: `Authz.${resource}`, action, granted: true, principal_id: token.id }),
        ...(MUTATING.has(route.method)
          ? [expect.objectContaining({ name: 'Ingress', principal_id: token.id, status: response.status })]
          : []),
      ])
    })
  }
})

describe('requests that record no events', () => {
  it('the public routes are exactly /healthz and the JWKS', () => {
    expect(publicRoutes.map((route) => `${route.method} ${route.url}`).sort()).toEqual([
      'GET /healthz',
      'GET /v2/audit-log-webhook/jwks.json',
    ])
  })

  it.each(publicRoutes.map((route) => [`${route.method} ${route.url}`, route] as const))(
    '%s answers with or without a token and records nothing',
    async (_, route) => {
      const headBefore = await server.store.headSequence(unattributedOrgId)
      for (const token of [null, server.adminToken, `kat_${'C'.repeat(43)}`]) {
        const response = await requestRoute(route, token)
        await discardBody(response)
        expect(response.status).toBe(200)
        expect(await eventsOfRequest(unattributedOrgId, traceOf(response), 0)).toEqual([])
      }
      expect(await server.store.headSequence(unattributedOrgId)).toBe(headBefore)
    },
  )

  it('404 for an unknown path and 405 for a wrong method record nothing, with or without a token', async () => {
    const headBefore = await server.store.headSequence(unattributedOrgId)
    for (const token of [null, server.adminToken]) {
      const missing = await server.request('/v1/nothing-here', { method: 'POST', token, ...jsonBody({}) })
      expect(missing.status).toBe(404)
      expect(await jsonOf(missing)).toMatchObject({ status: 404, instance: `kong:trace:${traceOf(missing)}` })
      const wrongMethod = await server.request('/v1/whoami', { method: 'DELETE', token })
      expect(wrongMethod.status).toBe(405)
      expect(await jsonOf(wrongMethod)).toMatchObject({ status: 405, instance: `kong:trace:${traceOf(wrongMethod)}` })
      const wrongOnParam = await server.request(`/v1/tokens/${randomUUID()}`, { method: 'GET', token })
      expect(wrongOnParam.status).toBe(405)
      await discardBody(wrongOnParam)
    }
    await delay(50)
    expect(await server.store.headSequence(unattributedOrgId)).toBe(headBefore)
  })
})

describe('decision events', () => {
  it('share the request trace id and exist when the response arrives', async () => {
    const response = await server.request('/v1/whoami')
    expect(response.status).toBe(200)
    const traceId = traceOf(response)
    await discardBody(response)
    const now = (await storedEvents(server.store, unattributedOrgId)).filter((event) => event.traceId === traceId)
    expect(now.map((event) => event.fields.name)).toEqual(['AUTHENTICATION_OUTCOME_SUCCESS', 'Authz.whoami'])
  })

  it('are committed before the handler runs', async () => {
    const store = server.store
    const original = store.insertToken
    const committedAtHandler: string[] = []
    Object.assign(store, {
      insertToken: async (...args: Parameters<typeof original>) => {
        const events = await storedEvents(store, unattributedOrgId)
        committedAtHandler.push(...events.filter((event) => event.fields.name === 'Authz.tokens').map((e) => e.traceId))
        return original.apply(store, args)
      },
    })
    try {
      const response = await server.request('/v1/tokens', {
        method: 'POST',
        ...jsonBody({ name: 'ordering-probe', role: 'auditor' }),
      })
      expect(response.status).toBe(201)
      expect(committedAtHandler).toContain(traceOf(response))
    } finally {
      Object.assign(store, { insertToken: original })
    }
  })
})

describe('fail closed (SPEC.md §3.4)', () => {
  /** Makes the next commit of events fail as an unavailable store would; later ones succeed again. */
  /** Fails the store's next append: after the access events still waiting to ride along are committed. */
  async function failNextAppend(): Promise<{ attempts: () => number; restore: () => void }> {
    await server.services.writer.flushAll()
    const store = server.store
    const original = store.appendEvents
    let attempts = 0
    Object.assign(store, {
      appendEvents: async (...args: Parameters<typeof original>) => {
        attempts++
        if (attempts === 1) throw new StoreError('unavailable', 'injected: the store is down')
        return original.apply(store, args)
      },
    })
    return { attempts: () => attempts, restore: () => Object.assign(store, { appendEvents: original }) }
  }

  async function tokenNames(): Promise<string[]> {
    const listed = await jsonOf(await server.request('/v1/tokens?page%5Bsize%5D=1000'))
    return listed.data.map((token: { name: string }) => token.name)
  }

  it('503 and no token created when the decision events cannot be committed', async () => {
    const failure = await failNextAppend()
    let response: Response
    try {
      response = await server.request('/v1/tokens', {
        method: 'POST',
        ...jsonBody({ name: 'fail-closed-probe', role: 'auditor' }),
      })
    } finally {
      failure.restore()
    }
    expect(failure.attempts()).toBeGreaterThanOrEqual(1)
    expect(response.status).toBe(503)
    const traceId = traceOf(response)
    expect(await jsonOf(response)).toMatchObject({
      status: 503,
      title: 'Service Unavailable',
      instance: `kong:trace:${traceId}`,
    })
    expect(await tokenNames()).not.toContain('fail-closed-probe')
    expect(await eventsOfRequest(unattributedOrgId, traceId, 0)).toEqual([])
  })

  it('503 rather than 401 for a request without a token when its denial cannot be committed', async () => {
    const failure = await failNextAppend()
    let response: Response
    try {
      response = await server.request('/v1/whoami', { token: null })
    } finally {
      failure.restore()
    }
    expect(response.status).toBe(503)
    expect(await jsonOf(response)).toMatchObject({ status: 503, instance: `kong:trace:${traceOf(response)}` })
  })
})
