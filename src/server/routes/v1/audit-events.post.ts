// POST /v1/audit-events: other systems' events, validated all-or-nothing, signed at ingest and
// acknowledged only after a durable commit (SPEC.md §3.5, §5.4).

import { authOf } from '../../auth/request-auth.js'
import { decodeBody, ingest, MAX_INGEST_BYTES, parseItems, validateItems } from '../../services/ingest.js'
import { defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'POST',
  url: '/v1/audit-events',
  permission: { resource: 'audit-events', action: 'create', roles: ['admin', 'ingest'] },
  rawBody: { contentTypes: ['application/json', 'application/x-ndjson'], limitBytes: MAX_INGEST_BYTES },
  handler: async (request, reply, services) => {
    const orgId = authOf(request).org.id
    const body = decodeBody(request.body as Buffer, request.headers['content-encoding'])
    const items = parseItems(body, request.headers['content-type'] ?? '')
    const valid = validateItems(items, orgId, services.clock.now(), services.config.retentionMs)
    return reply.code(201).send(await ingest(services, orgId, valid))
  },
})
