// POST /v1/audit-events: other systems' events, validated all-or-nothing, signed at ingest and
// acknowledged only after a durable commit; an Idempotency-Key replays the first response
// (SPEC.md §3.5, §5.4).

import type { FastifyReply } from 'fastify'
import { authOf } from '../../auth/request-auth.js'
import type { IngestResponse } from '../../services/ingest.js'
import {
  decodeBody,
  idempotentRequestOf,
  ingest,
  MAX_INGEST_BYTES,
  parseItems,
  replayFor,
  validateItems,
} from '../../services/ingest.js'
import { defineRoute } from '../define-route.js'

function send(reply: FastifyReply, response: IngestResponse): FastifyReply {
  if (response.replayed) reply.header('idempotent-replayed', 'true')
  return reply.code(response.status).type('application/json; charset=utf-8').send(response.body)
}

export const route = defineRoute({
  method: 'POST',
  url: '/v1/audit-events',
  permission: { resource: 'audit-events', action: 'create', roles: ['admin', 'ingest'] },
  rawBody: { contentTypes: ['application/json', 'application/x-ndjson'], limitBytes: MAX_INGEST_BYTES },
  handler: async (request, reply, services) => {
    const orgId = authOf(request).org.id
    // The raw-body parser runs only when a body was sent.
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const idempotent = idempotentRequestOf(request.headers, raw)
    // A retry is answered before validation: its items may have aged out of the event_ts window since.
    const replay = idempotent === null ? null : await replayFor(services, orgId, idempotent)
    if (replay !== null) return send(reply, replay)
    const body = decodeBody(raw, request.headers['content-encoding'])
    const items = parseItems(body, request.headers['content-type'])
    const arrivalTs = request.auditTrail?.facts.arrivalTs
    const valid = validateItems(items, orgId, services.clock.now(), services.config.retentionMs, arrivalTs)
    return send(reply, await ingest(services, orgId, valid, idempotent))
  },
})
