// Owns the Fastify application: strict JSON parsing, one trace id per request (header, logs,
// problems, audit events), problem+json for every error, 404/405 without events, and the routes
// with their auth and access hooks.

import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import Fastify from 'fastify'
import { findDuplicateKey } from '../core/json-duplicates.js'
import { drawTraceId } from '../core/trace-id.js'
import { trustedProxies } from './auth/client-address.js'
import { accessHook, protectHook } from './auth/protect.js'
import { mediaTypeOf, requireUtf8Charset } from './media-type.js'
import {
  answerClientError,
  badRequest,
  decodeUtf8Body,
  ProblemError,
  registerProblemHandlers,
  sendProblem,
} from './problem.js'
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

function parseJsonStrictly(request: FastifyRequest, raw: Buffer): unknown {
  // A POST that needs no body may still say application/json (SPEC.md §5.1): empty means none.
  if (raw.length === 0) return undefined
  const encoding = request.headers['content-encoding']
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new ProblemError(415, `Content-Encoding ${encoding} is accepted only by POST /v1/audit-events`)
  }
  requireUtf8Charset(request.headers['content-type'])
  const body = decodeUtf8Body(raw)
  const parsed: unknown = JSON.parse(body)
  const duplicate = findDuplicateKey(body)
  if (duplicate !== null) {
    throw badRequest([
      { field: 'body', rule: 'invalid', reason: `has the key "${duplicate}" more than once`, source: 'body' },
    ])
  }
  return parsed
}

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

/**
 * A POST without a body is accepted whatever its Content-Type says (SPEC.md §5.1); a body of a
 * type the scope has no parser for is refused.
 */
function acceptBodilessRequests(scope: FastifyInstance): void {
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined)
    else {
      const type = mediaTypeOf(request.headers['content-type'])
      done(new ProblemError(415, `Unsupported Content-Type ${type}; send application/json`), undefined)
    }
  })
}

/** A route that takes no body refuses one with members (`{}` or none is fine), rather than ignore it. */
async function refuseBody(request: FastifyRequest): Promise<void> {
  const { body } = request
  if (body === undefined || (isPlainObject(body) && Object.keys(body).length === 0)) return
  const members = isPlainObject(body) ? Object.keys(body) : []
  throw badRequest(
    members.length > 0
      ? members.map((field) => ({ field, rule: 'unknown_property', reason: 'is not a known property', source: 'body' }))
      : [{ field: 'body', rule: 'type', reason: 'must be empty or {}: this request takes no body', source: 'body' }],
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
  // Only JSON is accepted (SPEC.md §5.1); Fastify's built-in text/plain parser would let other types through.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonStrictly(request, body as Buffer))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  acceptBodilessRequests(app)
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
