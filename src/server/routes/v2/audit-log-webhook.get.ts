// GET /v2/audit-log-webhook: the webhook as Konnect shows it; never its authorization (SPEC.md §5.5).

import { WebhookBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { webhookView } from '../../services/webhook.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v2/audit-log-webhook',
  permission: { resource: 'audit-log-webhook', action: 'retrieve', roles: ADMIN },
  schema: { response: { 200: WebhookBody } },
  handler: async (request, _reply, { store }) => webhookView(await store.getWebhook(authOf(request).org.id)),
})
