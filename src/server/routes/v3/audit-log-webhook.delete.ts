// DELETE /v3/audit-log-webhook: unconfigures the webhook and discards its delivery state; any
// destination is kept (SPEC.md §5.8).

import { authOf } from '../../auth/request-auth.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'DELETE',
  url: '/v3/audit-log-webhook',
  permission: { resource: 'audit-log-webhook', action: 'delete', roles: ADMIN },
  handler: async (request, reply, { store }) => {
    await store.deleteWebhook(authOf(request).org.id)
    return reply.code(204).send()
  },
})
