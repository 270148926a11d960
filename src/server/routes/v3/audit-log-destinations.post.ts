// POST /v3/audit-log-destinations: creates a named endpoint definition (SPEC.md §5.7).

import type { Static } from 'typebox'
import { CreateDestinationBody, DestinationBody } from '../../../contract/destinations.js'
import { authOf } from '../../auth/request-auth.js'
import { createDestination } from '../../services/destinations.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'POST',
  url: '/v3/audit-log-destinations',
  permission: { resource: 'audit-log-destinations', action: 'create', roles: ADMIN },
  schema: { body: CreateDestinationBody, response: { 201: DestinationBody } },
  handler: async (request, reply, { store, clock, config }) => {
    const created = await createDestination(
      store,
      authOf(request).org.id,
      request.body as Static<typeof CreateDestinationBody>,
      { allowInsecureEndpoints: config.allowInsecureEndpoints, nowMs: clock.now() },
    )
    return reply.code(201).send(created)
  },
})
