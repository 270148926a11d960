// PATCH /v3/audit-log-destinations/{id}: changes a destination; the webhook using it picks the
// change up at once (SPEC.md §5.7).

import type { Static } from 'typebox'
import { DestinationBody, DestinationIdParams, PatchDestinationBody } from '../../../contract/destinations.js'
import { authOf } from '../../auth/request-auth.js'
import { patchDestination } from '../../services/destinations.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'PATCH',
  url: '/v3/audit-log-destinations/:id',
  permission: { resource: 'audit-log-destinations', action: 'edit', roles: ADMIN },
  schema: { params: DestinationIdParams, body: PatchDestinationBody, response: { 200: DestinationBody } },
  handler: async (request, _reply, { store, clock, config }) => {
    const { id } = request.params as Static<typeof DestinationIdParams>
    return patchDestination(store, authOf(request).org.id, id, request.body as Static<typeof PatchDestinationBody>, {
      allowInsecureEndpoints: config.allowInsecureEndpoints,
      nowMs: clock.now(),
    })
  },
})
