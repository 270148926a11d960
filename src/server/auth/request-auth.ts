// Owns what the auth hook attaches to a request: the verified token and its org, for handlers of
// protected routes (public routes never have it).

import type { FastifyRequest } from 'fastify'
import type { OrgRecord, TokenRecord } from '../../store/store.js'

export interface AuthContext {
  readonly token: TokenRecord
  readonly org: OrgRecord
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null
  }
}

/** The caller of a protected route; the auth hook guarantees it is there. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new Error(`route ${request.routeOptions.url} ran without authentication`)
  return request.auth
}
