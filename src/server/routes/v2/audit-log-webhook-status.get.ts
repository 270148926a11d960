// GET /v2/audit-log-webhook/status: delivery state, cursor and lag; readable by auditors (SPEC.md §5.5).

import { WebhookStatusBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { webhookStatus } from '../../services/webhook.js'
import { defineRoute, READERS } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v2/audit-log-webhook/status',
  permission: { resource: 'audit-log-webhook', action: 'retrieve', roles: READERS },
  schema: { response: { 200: WebhookStatusBody } },
  handler: async (request, _reply, { store, clock }) => webhookStatus(store, authOf(request).org.id, clock.now()),
})
