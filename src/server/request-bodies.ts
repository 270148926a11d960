// Owns what a request body may be (SPEC.md §5.1): JSON only, UTF-8 only, no duplicate keys, no
// Content-Encoding outside ingest; a bodiless request accepted whatever its Content-Type; and a
// request that takes no body refusing one with members rather than ignoring it.

import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findDuplicateKey } from '../core/json-duplicates.js'
import { mediaTypeOf, requireUtf8Charset } from './media-type.js'
import { badRequest, decodeUtf8Body, ProblemError } from './problem.js'

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

/** Only JSON is parsed (Fastify's built-in text/plain parser would let other types through). */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonStrictly(request, body as Buffer))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  acceptBodilessRequests(app)
}

/**
 * A POST without a body is accepted whatever its Content-Type says (SPEC.md §5.1); a body of a
 * type the scope has no parser for is refused.
 */
export function acceptBodilessRequests(scope: FastifyInstance): void {
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined)
    else {
      const type = mediaTypeOf(request.headers['content-type'])
      done(new ProblemError(415, `Unsupported Content-Type ${type}; send application/json`), undefined)
    }
  })
}

/** A route that takes no body refuses one with members (`{}` or none is fine), rather than ignore it. */
export async function refuseBody(request: FastifyRequest): Promise<void> {
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
