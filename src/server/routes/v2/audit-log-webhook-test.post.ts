// POST /v2/audit-log-webhook/test: one test delivery of this request's own authorization event to
// a candidate or the stored configuration; 200 whatever the receiver said (SPEC.md §5.5).

import type { Static } from 'typebox'
import { TestWebhookBody, WebhookTestResultBody } from '../../../contract/webhook.js'
import { authOf } from '../../auth/request-auth.js'
import { testWebhook } from '../../services/webhook-test.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'POST',
  url: '/v2/audit-log-webhook/test',
  permission: { resource: 'audit-log-webhook', action: 'test', roles: ADMIN },
  schema: { body: TestWebhookBody, response: { 200: WebhookTestResultBody } },
  handler: async (request, _reply, services) =>
    testWebhook(
      services,
      {
        orgId: authOf(request).org.id,
        traceId: String(request.id),
        authorizationSequence: request.auditTrail?.authorizationSequence ?? null,
      },
      (request.body ?? null) as Static<typeof TestWebhookBody>,
    ),
})
