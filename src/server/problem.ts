// Owns every error response (SPEC.md §5.1): problem+json with the request's trace id, Ajv errors
// as invalid_parameters with Konnect's rule names, domain errors by status, anything else a 500.

import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { InvalidParameter, Rule } from '../core/problem-fields.js'
import { drawTraceId } from '../core/trace-id.js'
import { StoreError } from '../store/store.js'

export type { InvalidParameter }

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Resource Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** An error a handler throws to answer with a problem; nothing was changed. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError'
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly invalidParameters: readonly InvalidParameter[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail)
  }
}

export function badRequest(parameters: readonly InvalidParameter[], detail = 'Invalid request body'): ProblemError {
  return new ProblemError(400, detail, parameters.slice(0, 100))
}

const UNPARSABLE: InvalidParameter[] = [{ field: 'body', reason: 'request format is invalid', source: 'body' }]

/** The 400 of a body that cannot be read as the JSON asked for (SPEC.md §5.1). */
export function unparsableBody(detail = 'Could not parse request body'): ProblemError {
  return badRequest(UNPARSABLE, detail)
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** UTF-8 only (SPEC.md §5.1): a body that is not UTF-8 is refused, never altered by U+FFFD. */
export function decodeUtf8Body(body: Buffer): string {
  try {
    return strictUtf8.decode(body)
  } catch {
    throw unparsableBody()
  }
}

export function problemBody(
  status: number,
  traceId: string,
  detail: string,
  invalid: readonly InvalidParameter[] = [],
) {
  return {
    status,
    title: TITLES[status] ?? 'Error',
    type: `https://httpstatuses.com/${status}`,
    instance: `kong:trace:${traceId}`,
    detail,
    ...(invalid.length > 0 ? { invalid_parameters: invalid } : {}),
  }
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
  invalid: readonly InvalidParameter[] = [],
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(JSON.stringify(problemBody(status, String(request.id), detail, invalid)))
}

interface AjvError {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Record<string, unknown>
  readonly message?: string
}

const TYPE_RULES: Record<string, Rule> = {
  string: 'is_string',
  boolean: 'is_boolean',
  integer: 'is_integer',
  number: 'type',
  object: 'type',
  array: 'type',
}

function fieldOf(error: AjvError, extra?: unknown): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const leaf = typeof extra === 'string' ? extra : ''
  return [path, leaf].filter((part) => part !== '').join('.') || 'body'
}

/** Konnect's invalid_parameters entry for one Ajv error. */
export function invalidParameterOf(error: AjvError, source: 'body' | 'query'): InvalidParameter {
  const { keyword, params } = error
  switch (keyword) {
    case 'required':
      return { field: fieldOf(error, params.missingProperty), rule: 'required', reason: 'is a required field', source }
    case 'additionalProperties':
      return {
        field: fieldOf(error, params.additionalProperty),
        rule: 'unknown_property',
        reason: 'is not a known property',
        source,
      }
    case 'type': {
      const rule = TYPE_RULES[String(params.type)] ?? 'type'
      return { field: fieldOf(error), rule, reason: `must be of type ${String(params.type)}`, source }
    }
    case 'enum':
    case 'const': {
      const choices = (params.allowedValues ?? [params.allowedValue]) as string[]
      return { field: fieldOf(error), rule: 'enum', reason: `must be one of: ${choices.join(', ')}`, choices, source }
    }
    case 'maxLength':
    case 'minLength': {
      const limit = Number(params.limit)
      const bound: Pick<InvalidParameter, 'rule' | 'minimum' | 'maximum'> =
        keyword === 'maxLength' ? { rule: 'max_length', maximum: limit } : { rule: 'min_length', minimum: limit }
      return {
        field: fieldOf(error),
        ...bound,
        reason:
          keyword === 'maxLength' ? `must be at most ${limit} characters` : `must be at least ${limit} characters`,
        source,
      }
    }
    case 'minimum':
    case 'maximum': {
      // An integer's value (page[size]): `min` / `max`, as ingest's `status` (problem-fields.ts).
      const limit = Number(params.limit)
      return keyword === 'minimum'
        ? { field: fieldOf(error), rule: 'min', minimum: limit, reason: `must be at least ${limit}`, source }
        : { field: fieldOf(error), rule: 'max', maximum: limit, reason: `must be at most ${limit}`, source }
    }
    case 'pattern':
      return { field: fieldOf(error), rule: 'matches_regex', reason: `must match ${String(params.pattern)}`, source }
    case 'format': {
      const rule: Rule =
        params.format === 'date-time' ? 'is_date_time' : params.format === 'uuid' ? 'is_uuid' : 'invalid'
      return { field: fieldOf(error), rule, reason: `must be a valid ${String(params.format)}`, source }
    }
    default:
      return { field: fieldOf(error), rule: 'invalid', reason: error.message ?? 'is invalid', source }
  }
}

const STATUS_OF_FASTIFY_CODE: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'Unsupported Content-Type; send application/json (POST /v1/audit-events also takes application/x-ndjson)',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Could not parse request body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'Could not parse request body'],
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) {
      reply.headers(error.headers)
      return sendProblem(request, reply, error.status, error.detail, error.invalidParameters)
    }
    if (error.validation) {
      const source = error.validationContext === 'querystring' ? 'query' : 'body'
      const invalid = error.validation.map((entry) => invalidParameterOf(entry as AjvError, source)).slice(0, 100)
      return sendProblem(
        request,
        reply,
        400,
        source === 'query' ? 'Invalid query parameters' : 'Invalid request body',
        invalid,
      )
    }
    const known = error.code ? STATUS_OF_FASTIFY_CODE[error.code] : undefined
    if (known) return sendProblem(request, reply, known[0], known[1], known[0] === 400 ? UNPARSABLE : [])
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendProblem(request, reply, 400, 'Could not parse request body', UNPARSABLE)
    }
    if (error.code === 'ECONNRESET' || error.code === 'ECONNABORTED') {
      // The client left while its body was being read: nobody to answer, nothing went wrong here.
      request.log.info({ err: error }, 'client went away before its request was read')
      return sendProblem(request, reply, 400, 'The request body did not arrive whole', UNPARSABLE)
    }
    if (error instanceof StoreError && error.kind === 'unavailable') {
      request.log.error({ err: error }, 'store unavailable')
      return sendProblem(request, reply, 503, 'The audit store is unavailable; try again shortly')
    }
    request.log.error({ err: error }, 'unexpected error')
    return sendProblem(request, reply, 500, 'An unexpected error occurred')
  })
}

/**
 * Answers a request Node's HTTP parser refused (a control character in a header, a bad
 * Content-Length): problem+json with a trace id like every response, then the connection closes.
 * Nothing in the request could be read, not even its path, so it has no audit events.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return
  const traceId = String(drawTraceId())
  // Node reports a request not received in time (the server's requestTimeout) here too.
  const [status, statusLine, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, '408 Request Timeout', 'The request did not arrive in time']
      : [400, '400 Bad Request', 'The request is not valid HTTP/1.1']
  const body = JSON.stringify(problemBody(status, traceId, detail))
  socket.end(
    [
      `HTTP/1.1 ${statusLine}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `Konnect-Audit-Trace-Id: ${traceId}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  )
}
