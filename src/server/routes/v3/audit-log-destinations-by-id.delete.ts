// DELETE /v3/audit-log-destinations/{id}: deletes a destination the webhook does not use (SPEC.md §5.7).

import type { Static } from 'typebox'
import { DestinationIdParams } from '../../../contract/destinations.js'
import { authOf } from '../../auth/request-auth.js'
import { deleteDestination } from '../../services/destinations.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'DELETE',
  url: '/v3/audit-log-destinations/:id',
  permission: { resource: 'audit-log-destinations', action: 'delete', roles: ADMIN },
  schema: { params: DestinationIdParams },
  handler: async (request, reply, { store }) => {
    const { id } = request.params as Static<typeof DestinationIdParams>
    await deleteDestination(store, authOf(request).org.id, id)
    return reply.code(204).send()
  },
})
