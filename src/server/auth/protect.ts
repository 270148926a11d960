// Owns the hooks of protected routes: before anything else, check the token and the route's
// permission and commit both decisions as events (fail closed: 503 if they cannot be stored);
// after a mutating request's response, record its access event.

import type { BlockList } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sanitizeUserAgent } from '../../core/user-agent.js'
import type { TokenRecord } from '../../store/store.js'
import { StoreError } from '../../store/store.js'
import { formatUtcSeconds } from '../../util/rfc3339.js'
import type { TraceId } from '../../util/u64.js'
import { ProblemError, sendProblem } from '../problem.js'
import type { Permission } from '../routes/define-route.js'
import type { Services } from '../services/services.js'
import { checkToken } from './check-token.js'
import { clientAddress } from './client-address.js'
import type { RequestFacts } from './self-audit.js'
import { accessEvent, authenticationEvent, authorizationEvent } from './self-audit.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the decision events are committed, for the access event after the response. */
    auditTrail: {
      facts: RequestFacts
      orgId: string | null
      principalId: string
      /** The sequence of the committed authorization event, which the webhook test sends (SPEC.md §5.5). */
      authorizationSequence: number | null
    } | null
  }
}

const DENIALS: Record<string, string> = { expired: 'Token expired', revoked: 'Token revoked' }

/** The query string as a compact JSON object: sorted keys, strings, arrays for repeated keys. */
export function queryJson(url: string): string {
  const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
  const grouped = new Map<string, string[]>()
  for (const [key, value] of params) grouped.set(key, [...(grouped.get(key) ?? []), value])
  const sorted = [...grouped.keys()].sort()
  return JSON.stringify(
    Object.fromEntries(
      sorted.map((key) => {
        const values = grouped.get(key) as string[]
        return [key, values.length === 1 ? values[0] : values]
      }),
    ),
  )
}

function factsOf(request: FastifyRequest, arrivalMs: number, trusted: BlockList): RequestFacts {
  const forwarded = request.headers['x-forwarded-for']
  return {
    traceId: request.id as TraceId,
    arrivalTs: formatUtcSeconds(arrivalMs),
    src: clientAddress(
      request.socket.remoteAddress,
      Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
      trusted,
    ),
    userAgent: sanitizeUserAgent(request.headers['user-agent']),
    path: request.url.split('?')[0] as string,
    method: request.method,
    query: queryJson(request.url),
  }
}

/** last_used_at is refreshed at most once a minute per token: a write per request would cost an fsync. */
const TOUCH_INTERVAL_MS = 60_000

function touchIfStale(services: Services, token: TokenRecord, nowMs: number, request: FastifyRequest): void {
  if (token.lastUsedAt !== null && nowMs - token.lastUsedAt < TOUCH_INTERVAL_MS) return
  services.store.touchToken(token.id, nowMs).catch((error: unknown) => {
    request.log.warn({ err: error }, 'could not record the token use')
  })
}

export function protectHook(permission: Permission, services: Services, trusted: BlockList) {
  const { store, clock, audit, orgs } = services
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const arrivalMs = clock.now()
    const facts = factsOf(request, arrivalMs, trusted)
    const check = await checkToken(request.headers.authorization, store, arrivalMs)
    const orgId = check.token?.orgId ?? services.unattributedOrgId
    const principalId = check.token?.id ?? ''
    const granted = check.outcome === 'success' && permission.roles.includes(check.token.role)
    let authorizationSequence: number | null = null
    try {
      const [, authorization] = await audit.record(
        orgId,
        [
          authenticationEvent(facts, check, orgId ?? ''),
          authorizationEvent(facts, principalId, orgId ?? '', permission, granted),
        ],
        request.log,
      )
      authorizationSequence = authorization?.sequence ?? null
    } catch (error) {
      request.log.error({ err: error }, 'could not store the request audit events')
      throw new ProblemError(503, 'The audit store is unavailable; try again shortly')
    }
    request.auditTrail = { facts, orgId, principalId, authorizationSequence }
    if (check.outcome !== 'success') {
      return sendProblem(request, reply, 401, DENIALS[check.outcome] ?? 'Unauthorized')
    }
    if (!granted) return sendProblem(request, reply, 403, 'You do not have permission to perform this action')
    const org = await orgs.find(check.token.orgId)
    if (!org) throw new StoreError('not_found', `org ${check.token.orgId} of token ${check.token.id} is missing`)
    request.auth = { token: check.token, org }
    touchIfStale(services, check.token, arrivalMs, request)
    return undefined
  }
}

export function accessHook(services: Services) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const trail = request.auditTrail
    if (!trail) return
    try {
      const event = accessEvent(trail.facts, trail.principalId, trail.orgId ?? '', reply.statusCode)
      await services.audit.recordSoon(trail.orgId, [event], request.log)
    } catch (error) {
      request.log.error({ err: error, traceId: trail.facts.traceId }, 'could not store the access event')
    }
  }
}
