// GET /v3/audit-log-webhook: the destination reference and flag; 404 unless in destination mode (SPEC.md §5.8).

import { V3WebhookBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { v3Webhook } from '../../services/webhook.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-log-webhook',
  permission: { resource: 'audit-log-webhook', action: 'retrieve', roles: ADMIN },
  schema: { response: { 200: V3WebhookBody } },
  handler: async (request, _reply, { store }) => v3Webhook(store, authOf(request).org.id),
})
