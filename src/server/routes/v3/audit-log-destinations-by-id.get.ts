// GET /v3/audit-log-destinations/{id}: one destination, without its authorization (SPEC.md §5.7).

import type { Static } from 'typebox'
import { DestinationBody, DestinationIdParams } from '../../../contract/destinations.js'
import { authOf } from '../../auth/request-auth.js'
import { getDestination } from '../../services/destinations.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-log-destinations/:id',
  permission: { resource: 'audit-log-destinations', action: 'retrieve', roles: ADMIN },
  schema: { params: DestinationIdParams, response: { 200: DestinationBody } },
  handler: async (request, _reply, { store }) => {
    const { id } = request.params as Static<typeof DestinationIdParams>
    return getDestination(store, authOf(request).org.id, id)
  },
})
