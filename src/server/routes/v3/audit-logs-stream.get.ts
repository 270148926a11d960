// GET /v3/audit-logs/stream: the org's events as Server-Sent Events, history from a resume point
// and then live (SPEC.md §5.10). The reply is hijacked: frames go to the socket, not the serializer.

import { Type } from 'typebox'
import { EVENT_TYPES } from '../../../core/events.js'
import { LINE_FORMATS } from '../../../core/extract.js'
import { authOf } from '../../auth/request-auth.js'
import { liveStreamsOf } from '../../services/live-stream.js'
import type { StreamQuery } from '../../services/stream-start.js'
import { streamParamsOf, streamStartOf } from '../../services/stream-start.js'
import { defineRoute, READERS } from '../define-route.js'

const StreamQuerySchema = Type.Object(
  {
    format: Type.Optional(Type.Enum([...LINE_FORMATS])),
    'filter[type]': Type.Optional(Type.Enum([...EVENT_TYPES])),
    'filter[ts][gte]': Type.Optional(Type.String({ format: 'date-time' })),
    last_event_id: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]*)$' })),
  },
  { additionalProperties: false },
)

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-logs/stream',
  permission: { resource: 'audit-logs', action: 'stream', roles: READERS },
  schema: { querystring: StreamQuerySchema },
  handler: async (request, reply, services) => {
    const { org, token } = authOf(request)
    const params = streamParamsOf(request.query as StreamQuery, request.headers['last-event-id'])
    const start = await streamStartOf(services.store, org.id, params)
    await liveStreamsOf(services).open(reply, { orgId: org.id, token, params, start })
    return reply
  },
})
