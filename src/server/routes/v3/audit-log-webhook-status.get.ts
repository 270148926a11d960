// GET /v3/audit-log-webhook/status: the same status as under /v2 (SPEC.md §5.5).

import { WebhookStatusBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { webhookStatus } from '../../services/webhook.js'
import { defineRoute, READERS } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-log-webhook/status',
  permission: { resource: 'audit-log-webhook', action: 'retrieve', roles: READERS },
  schema: { response: { 200: WebhookStatusBody } },
  handler: async (request, _reply, { store, clock }) => webhookStatus(store, authOf(request).org.id, clock.now()),
})
