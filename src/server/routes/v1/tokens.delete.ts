// DELETE /v1/tokens/{id}: revokes a token at once and for good (its open live streams end too);
// revoking twice is a no-op.

import type { Static } from 'typebox'
import { TokenIdParams } from '../../../contract/tokens.js'
import { authOf } from '../../auth/request-auth.js'
import { liveStreamsOf } from '../../services/live-stream.js'
import { revokeToken } from '../../services/tokens.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'DELETE',
  url: '/v1/tokens/:id',
  permission: { resource: 'tokens', action: 'delete', roles: ADMIN },
  schema: { params: TokenIdParams },
  handler: async (request, reply, services) => {
    const { id } = request.params as Static<typeof TokenIdParams>
    const orgId = authOf(request).org.id
    await revokeToken(services.store, orgId, id, services.clock.now())
    // Its open streams end now; other replicas' streams read the token back within a second or so.
    liveStreamsOf(services).endForToken(orgId, id.toLowerCase())
    return reply.code(204).send()
  },
})
