// PATCH /v3/audit-log-webhook: points the webhook at a destination or toggles it (SPEC.md §5.8).

import type { Static } from 'typebox'
import { PatchV3WebhookBody, V3WebhookBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { patchV3Webhook } from '../../services/webhook.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'PATCH',
  url: '/v3/audit-log-webhook',
  permission: { resource: 'audit-log-webhook', action: 'edit', roles: ADMIN },
  schema: { body: PatchV3WebhookBody, response: { 200: V3WebhookBody } },
  handler: async (request, _reply, { store, clock }) =>
    patchV3Webhook(store, authOf(request).org.id, request.body as Static<typeof PatchV3WebhookBody>, clock.now()),
})
