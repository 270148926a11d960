// DELETE /v1/tokens/{id}: revokes a token at once and for good; revoking twice is a no-op.

import type { Static } from 'typebox'
import { TokenIdParams } from '../../../contract/tokens.js'
import { authOf } from '../../auth/request-auth.js'
import { revokeToken } from '../../services/tokens.js'
import { ADMIN, defineRoute } from '../define-route.js'

export const route = defineRoute({
  method: 'DELETE',
  url: '/v1/tokens/:id',
  permission: { resource: 'tokens', action: 'delete', roles: ADMIN },
  schema: { params: TokenIdParams },
  handler: async (request, reply, { store, clock }) => {
    const { id } = request.params as Static<typeof TokenIdParams>
    await revokeToken(store, authOf(request).org.id, id, clock.now())
    return reply.code(204).send()
  },
})
