// GET /v3/audit-log-destinations: the org's destinations, paged and filtered by name (SPEC.md §5.7).

import type { Static } from 'typebox'
import { DestinationListBody, ListDestinationsQuery } from '../../../contract/destinations.js'
import { authOf } from '../../auth/request-auth.js'
import { listDestinations } from '../../services/destinations.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'GET',
  url: '/v3/audit-log-destinations',
  permission: { resource: 'audit-log-destinations', action: 'list', roles: ADMIN },
  schema: { querystring: ListDestinationsQuery, response: { 200: DestinationListBody } },
  handler: async (request, _reply, { store }) =>
    listDestinations(store, authOf(request).org.id, request.query as Static<typeof ListDestinationsQuery>),
})
