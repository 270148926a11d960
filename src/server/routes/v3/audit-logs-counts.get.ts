// GET /v3/audit-logs/counts: retained events per UTC time bucket of an event_ts window
// (SPEC.md §5.9a), for readers such as `replay start --dry-run`.

import type { CountsRequest } from '../../../contract/audit-logs.js'
import { CountsBody, CountsQuery } from '../../../contract/audit-logs.js'
import { authOf } from '../../auth/request-auth.js'
import { countEvents } from '../../services/counts.js'
import { defineRoute, READERS } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-logs/counts',
  permission: { resource: 'audit-logs', action: 'list', roles: READERS },
  schema: { querystring: CountsQuery, response: { 200: CountsBody } },
  handler: async (request, _reply, services) =>
    countEvents(services, authOf(request).org.id, request.query as CountsRequest),
})
