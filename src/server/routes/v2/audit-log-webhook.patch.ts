// PATCH /v2/audit-log-webhook: configures the inline webhook or toggles it (SPEC.md §5.5).

import type { Static } from 'typebox'
import { PatchWebhookBody, WebhookBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { patchV2Webhook } from '../../services/webhook.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'PATCH',
  url: '/v2/audit-log-webhook',
  permission: { resource: 'audit-log-webhook', action: 'edit', roles: ADMIN },
  schema: { body: PatchWebhookBody, response: { 200: WebhookBody } },
  handler: async (request, _reply, { store, clock, config }) =>
    patchV2Webhook(store, authOf(request).org.id, request.body as Static<typeof PatchWebhookBody>, {
      allowInsecureEndpoints: config.allowInsecureEndpoints,
      nowMs: clock.now(),
    }),
})
