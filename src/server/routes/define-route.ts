// Owns the shape of a route: one file per route declares its method, URL, schema, the permission
// it needs (or none for public routes) and a thin handler that calls services.

import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import type { Role } from '../../store/store.js'
import type { Services } from '../services/services.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** The authorization event's `name` (`Authz.<resource>`) and `action`, and the roles allowed. */
export interface Permission {
  readonly resource: string
  readonly action: string
  readonly roles: readonly Role[]
}

export interface RouteDefinition {
  readonly method: HttpMethod
  readonly url: string
  readonly schema?: FastifySchema
  /** Null for public routes, which record no audit events. */
  readonly permission: Permission | null
  /**
   * Routes that read their body as raw bytes (ingest) name the content types they accept and the
   * byte limit of the body as sent; everything else gets strict JSON and the 64 KiB admin limit.
   */
  readonly rawBody?: { readonly contentTypes: readonly string[]; readonly limitBytes: number }
  handler(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<unknown>
}

export function defineRoute(definition: RouteDefinition): RouteDefinition {
  return definition
}

export const ALL_ROLES: readonly Role[] = ['admin', 'auditor', 'ingest']
export const ADMIN: readonly Role[] = ['admin']
export const READERS: readonly Role[] = ['admin', 'auditor']
