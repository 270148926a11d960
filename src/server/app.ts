// Owns the Fastify application: one trace id per request (header, logs, problems, audit events),
// problem+json for every error, 404/405 without events, time limits and TLS, and the routes with
// their body rules (request-bodies.ts) and their auth and access hooks.

import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import Fastify from 'fastify'
import { drawTraceId } from '../core/trace-id.js'
import { trustedProxies } from './auth/client-address.js'
import { accessHook, protectHook } from './auth/protect.js'
import { answerClientError, registerProblemHandlers, sendProblem } from './problem.js'
import { acceptBodilessRequests, acceptJsonBodies, refuseBody } from './request-bodies.js'
import type { RouteDefinition } from './routes/define-route.js'
import { routes } from './routes/index.js'
import { liveStreamsOf } from './services/live-stream.js'
import type { Services } from './services/services.js'
import { validatorCompiler } from './validators.js'

const ADMIN_BODY_LIMIT = 64 * 1024
/**
 * The longest a client may take to send a whole request, headers and body (5 MiB of ingest at
 * 45 KB/s): a client trickling its body cannot hold a connection for ever. Streams are responses,
 * so this never cuts one.
 */
export const REQUEST_TIMEOUT_MS = 120_000
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const NO_QUERY = { type: 'object', properties: {}, additionalProperties: false }

/**
 * The certificate and key to serve TLS with. A key that is not the certificate's fails the start
 * (Node would listen, then fail every handshake when their algorithms differ).
 */
function tlsFiles(tls: { readonly cert: string; readonly key: string }): { cert: Buffer; key: Buffer } {
  const cert = readFileSync(tls.cert)
  const key = readFileSync(tls.key)
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`--tls-key ${tls.key} is not the private key of the certificate in --tls-cert ${tls.cert}`)
  }
  return { cert, key }
}

/** Matches a concrete path against route patterns, to tell 405 (known path) from 404. */
function methodsByPath(definitions: readonly RouteDefinition[]): (path: string) => string[] {
  const patterns = definitions.map((route) => ({
    method: route.method,
    regex: new RegExp(`^${route.url.replace(/[.]/g, '\\.').replace(/:[^/]+/g, '[^/]+')}$`),
  }))
  return (path) => patterns.filter(({ regex }) => regex.test(path)).map(({ method }) => method)
}

/** Where server logs go: pino JSON at `level` to `stream` (stderr in `serve`), or nowhere. */
export type LogDestination = { readonly level: string; readonly stream: NodeJS.WritableStream } | null

export async function buildApp(services: Services, log: LogDestination): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      log === null
        ? false
        : { level: log.level, stream: log.stream, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    genReqId: () => drawTraceId(),
    requestIdHeader: false,
    bodyLimit: ADMIN_BODY_LIMIT,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    requestTimeout: REQUEST_TIMEOUT_MS,
    clientErrorHandler: answerClientError,
    forceCloseConnections: 'idle',
    ...(services.config.tls ? { https: tlsFiles(services.config.tls) } : {}),
  })
  app.setValidatorCompiler(validatorCompiler())
  app.decorateRequest('auth', null)
  app.decorateRequest('auditTrail', null)
  acceptJsonBodies(app)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('konnect-audit-trace-id', String(request.id))
  })
  registerProblemHandlers(app)
  // Open SSE streams would keep close() waiting; clients resume with Last-Event-ID (DESIGN.md §5).
  app.addHook('preClose', async () => liveStreamsOf(services).endAll())

  const trusted = trustedProxies(services.config.trustProxy)
  const register = (scope: FastifyInstance, route: RouteDefinition) =>
    scope.route({
      method: route.method,
      url: route.url,
      // A query parameter no route declares is a 400: a typo must never widen a result (SPEC.md §5.1).
      schema: { querystring: NO_QUERY, ...route.schema },
      onRequest: route.permission ? [protectHook(route.permission, services, trusted)] : [],
      preValidation: MUTATING.has(route.method) && !route.schema?.body && !route.rawBody ? [refuseBody] : [],
      onResponse: route.permission && MUTATING.has(route.method) ? [accessHook(services)] : [],
      handler: (request, reply) => route.handler(request, reply, services),
    })
  for (const route of routes) {
    const raw = route.rawBody
    if (!raw) {
      register(app, route)
      continue
    }
    // Raw-body routes live in their own scope, so their parser applies to them alone.
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers()
      acceptBodilessRequests(scope)
      scope.addContentTypeParser(
        [...raw.contentTypes],
        { parseAs: 'buffer', bodyLimit: raw.limitBytes },
        (_request, body, done) => done(null, body),
      )
      register(scope, route)
    })
  }

  const allowedMethods = methodsByPath(routes)
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request.url.split('?')[0] as string)
    if (allowed.length === 0)
      return sendProblem(request, reply, 404, `No route matches ${request.method} ${request.url.split('?')[0]}`)
    reply.header('allow', allowed.join(', '))
    return sendProblem(request, reply, 405, `Method ${request.method} is not allowed here; use ${allowed.join(' or ')}`)
  })
  return app
}
